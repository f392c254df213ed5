import type {
  CaptureStatusView,
  ClientView,
  ClientWithSecret,
  ConflictView,
  ErrorBody,
  InboxFileView,
  RefusalView,
} from '@outpost/contracts';

/** A refusal from the admin API (with its stable code) or a failure to reach it (code UNREACHABLE). */
export class AdminApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly correlationId?: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export type FetchFn = typeof fetch;

/** The gateway's admin API (ADMIN_PORT); the only server surface this CLI talks to. */
export class AdminApi {
  private readonly base: string;

  constructor(
    server: string,
    private readonly token: string,
    private readonly fetchFn: FetchFn = fetch,
  ) {
    this.base = server.replace(/\/+$/, '');
  }

  listClients = () => this.call<ClientView[]>('GET', '/admin/clients');
  addClient = (name: string, userLogin: string) =>
    this.call<ClientWithSecret>('POST', '/admin/clients', { name, userLogin });
  deactivate = (name: string) => this.call<ClientView>('POST', `/admin/clients/${enc(name)}/deactivate`);
  rotateSecret = (name: string) =>
    this.call<ClientWithSecret>('POST', `/admin/clients/${enc(name)}/rotate-secret`);
  reextract = (name: string) => this.call<ClientView>('POST', `/admin/clients/${enc(name)}/reextract`);
  inbox = (name: string) => this.call<InboxFileView[]>('GET', `/admin/clients/${enc(name)}/inbox`);
  retry = (name: string, fileSeq: number) =>
    this.call<InboxFileView>('POST', `/admin/clients/${enc(name)}/inbox/${fileSeq}/retry`);
  reject = (name: string, fileSeq: number, reason: string) =>
    this.call<InboxFileView>('POST', `/admin/clients/${enc(name)}/inbox/${fileSeq}/reject`, { reason });
  capture = () => this.call<CaptureStatusView>('GET', '/admin/capture');
  conflicts = (client?: string) =>
    this.call<ConflictView[]>(
      'GET',
      `/admin/conflicts${client ? `?client=${encodeURIComponent(client)}` : ''}`,
    );

  refusals = (client?: string) =>
    this.call<RefusalView[]>(
      'GET',
      `/admin/refusals${client ? `?client=${encodeURIComponent(client)}` : ''}`,
    );

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.base}${path}`;
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new AdminApiError(
        `cannot reach the admin API at ${this.base} (${cause?.code ?? cause?.message ?? (err as Error).message}); check --server / SYNC_ADMIN_URL and that the gateway is running`,
        'UNREACHABLE',
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return json as T;
    const error = (json as ErrorBody | undefined)?.error;
    if (error) throw new AdminApiError(error.message, error.code, error.correlationId);
    throw new AdminApiError(
      `${method} ${url} answered HTTP ${res.status} without an error body; is --server the gateway's admin port?`,
      `HTTP_${res.status}`,
    );
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
