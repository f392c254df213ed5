/** Why a command failed; stable so scripts can branch on it (`--json` prints it). */
export enum AgentErrorCode {
  ConfigMissing = 'CONFIG_MISSING',
  ConfigInvalid = 'CONFIG_INVALID',
  DirNotEmpty = 'DIR_NOT_EMPTY',
  StoreBusy = 'STORE_BUSY',
  SqlFailed = 'SQL_FAILED',
  ValueInvalid = 'VALUE_INVALID',
  ServerUnreachable = 'SERVER_UNREACHABLE',
  ServerUntrusted = 'SERVER_UNTRUSTED',
  /** Plain http:// to a host other than loopback without --insecure-http: nothing was sent. */
  InsecureHttp = 'INSECURE_HTTP',
  /** The secret was given in more than one way (--secret, SYNC_AGENT_SECRET, --secret-stdin). */
  SecretAmbiguous = 'SECRET_AMBIGUOUS',
  ServerError = 'SERVER_ERROR',
  UploadRefused = 'UPLOAD_REFUSED',
  ChecksumMismatch = 'CHECKSUM_MISMATCH',
  ExtractTimeout = 'EXTRACT_TIMEOUT',
  DownloadInvalid = 'DOWNLOAD_INVALID',
  DxInvalid = 'DX_INVALID',
  InjectedFailure = 'INJECTED_FAILURE',
  /** The server's schema steps could not be applied to the local store (nothing was changed). */
  SchemaUpgradeFailed = 'SCHEMA_UPGRADE_FAILED',
}

const EXIT_CODES: Partial<Record<AgentErrorCode, number>> = {
  [AgentErrorCode.ServerUnreachable]: 3,
  [AgentErrorCode.ServerUntrusted]: 3,
  [AgentErrorCode.ServerError]: 4,
  [AgentErrorCode.UploadRefused]: 4,
};

export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AgentError';
  }

  /** 3: the server could not be reached (retry later); 4: the server refused something; 1: anything else. */
  get exitCode(): number {
    return EXIT_CODES[this.code] ?? 1;
  }
}
