/** Stable codes for the ways the test harness can fail, so callers can tell them apart. */
export enum TestSupportErrorCode {
  ServicesUnavailable = 'TEST_SERVICES_UNAVAILABLE',
  WaitTimedOut = 'WAIT_TIMED_OUT',
  ServiceNotBuilt = 'SERVICE_NOT_BUILT',
  ServiceStartFailed = 'SERVICE_START_FAILED',
  InvalidOption = 'INVALID_OPTION',
}

export class TestSupportError extends Error {
  constructor(
    readonly code: TestSupportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TestSupportError';
  }
}
