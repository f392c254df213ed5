import { getServices, type TestServices } from './services';

// jest documents globalThis as the one place its global setup can hand state to its global teardown.
const HANDLE = Symbol.for('@outpost/test-support/global-services');
type WithHandle = typeof globalThis & { [HANDLE]?: TestServices };

/**
 * For a jest globalSetup: resolves the services once for the whole run and exports them as
 * DATABASE_URL, AMQP_URL, S3_* so that every test worker, spawned afterwards, inherits them.
 */
export async function setupTestServices(log: (line: string) => void = console.log): Promise<TestServices> {
  const services = await getServices();
  Object.assign(process.env, services.env);
  (globalThis as WithHandle)[HANDLE] = services;
  log(services.describe());
  return services;
}

/** For a jest globalTeardown: stops what `setupTestServices` started. */
export async function teardownTestServices(): Promise<void> {
  const holder = globalThis as WithHandle;
  const services = holder[HANDLE];
  delete holder[HANDLE];
  await services?.stop();
}
