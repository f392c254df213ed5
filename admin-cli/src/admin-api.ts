import type {
  AuthAuditView,
  CaptureStatusView,
  ClientLagView,
  ClientView,
  ClientWithSecret,
  ConflictView,
  ErrorBody,
  InboxFileView,
  RefusalView,
} from '@outpost/contracts';

/**
 * What kind of failure, which decides the exit code: the command line was wrong (usage), the
 * admin API said no (refused), the admin API could not be reached or was not what answered
 * (unreachable), or the server failed (server).
 */
export type FailureClass = 'usage' | 'refused' | 'unreachable' | 'server';

/** A refusal from the admin API (with its stable code) or a failure to reach it. */
export class AdminApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly failureClass: FailureClass,
    readonly correlationId?: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export type FetchFn = typeof fetch;

export const DEFAULT_TIMEOUT_MS = 30_000;

/** The gateway's admin API (ADMIN_PORT); the only server surface this CLI talks to. */
export class AdminApi {
  private readonly base: string;

  constructor(
    server: string,
    private readonly token: string,
    private readonly fetchFn: FetchFn = fetch,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    this.base = server.replace(/\/+$/, '');
  }

  listClients = () => this.call<ClientView[]>('GET', '/admin/clients');
  addClient = (name: string, userLogin: string) =>
    this.call<ClientWithSecret>('POST', '/admin/clients', { name, userLogin });
  deactivate = (name: string) => this.call<ClientView>('POST', `/admin/clients/${enc(name)}/deactivate`);
  reactivate = (name: string) => this.call<ClientView>('POST', `/admin/clients/${enc(name)}/reactivate`);
  rotateSecret = (name: string) =>
    this.call<ClientWithSecret>('POST', `/admin/clients/${enc(name)}/rotate-secret`);
  reextract = (name: string) => this.call<ClientView>('POST', `/admin/clients/${enc(name)}/reextract`);
  inbox = (name: string) => this.call<InboxFileView[]>('GET', `/admin/clients/${enc(name)}/inbox`);
  retry = (name: string, fileSeq: number) =>
    this.call<InboxFileView>('POST', `/admin/clients/${enc(name)}/inbox/${fileSeq}/retry`);
  reject = (name: string, fileSeq: number, reason: string) =>
    this.call<InboxFileView>('POST', `/admin/clients/${enc(name)}/inbox/${fileSeq}/reject`, { reason });
  capture = () => this.call<CaptureStatusView>('GET', '/admin/capture');
  lag = (client?: string) => this.call<ClientLagView[]>('GET', `/admin/lag${query('client', client)}`);
  conflicts = (client?: string) =>
    this.call<ConflictView[]>('GET', `/admin/conflicts${query('client', client)}`);

  refusals = (client?: string) =>
    this.call<RefusalView[]>(
      'GET',
      `/admin/refusals${client ? `?client=${encodeURIComponent(client)}` : ''}`,
    );

  authAudit = (client?: string) =>
    this.call<AuthAuditView[]>('GET', `/admin/auth-audit${query('client', client)}`);

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.base}${path}`;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw this.unreachable(err);
    }
    const json = parseJson(text);
    if (json === NOT_JSON) throw this.notTheAdminApi(res, text);
    if (res.ok) return json as T;
    const error = (json as ErrorBody | undefined)?.error;
    if (error) {
      throw new AdminApiError(error.message, error.code, classOfStatus(res.status), error.correlationId);
    }
    throw new AdminApiError(
      `${method} ${url} answered HTTP ${res.status} without an error body; is --server the gateway's admin port?`,
      `HTTP_${res.status}`,
      classOfStatus(res.status),
    );
  }

  private unreachable(err: unknown): AdminApiError {
    const name = (err as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new AdminApiError(
        `the admin API at ${this.base} did not answer within ${this.timeoutMs / 1000} s; check the gateway, or raise --timeout`,
        'TIMEOUT',
        'unreachable',
      );
    }
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return new AdminApiError(
      `cannot reach the admin API at ${this.base} (${cause?.code ?? cause?.message ?? (err as Error).message}); check --server / SYNC_ADMIN_URL and that the gateway is running`,
      'UNREACHABLE',
      'unreachable',
    );
  }

  /** Something answered, but not the admin API: a web page, a proxy, the agents' port of another build. */
  private notTheAdminApi(res: Response, text: string): AdminApiError {
    const type = res.headers.get('content-type') ?? '';
    const html = /html/i.test(type) || /^\s*</.test(text);
    return new AdminApiError(
      html
        ? `the server at ${this.base} answered with HTML, not the Outpost admin API: check --server and the port (the gateway's ADMIN_PORT, 8081 by default)`
        : `the server at ${this.base} answered HTTP ${res.status} with ${type || 'a body'} that is not JSON, not the Outpost admin API: check --server and the port`,
      'NOT_ADMIN_API',
      'unreachable',
    );
  }
}

const NOT_JSON = Symbol('not json');

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

/** 503 means a dependency of the gateway is down: as unreachable for the caller as the gateway itself. */
function classOfStatus(status: number): FailureClass {
  if (status === 503) return 'unreachable';
  return status >= 500 ? 'server' : 'refused';
}

function query(name: string, value: string | undefined): string {
  return value ? `?${name}=${encodeURIComponent(value)}` : '';
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
