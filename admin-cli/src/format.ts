import type {
  AuthAuditView,
  CaptureStatusView,
  ClientLagView,
  ClientView,
  ConflictView,
  InboxFileView,
  RefusalView,
} from '@outpost/contracts';

/** A plain text table: a header row, then one row per record, columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

const dash = (v: string | null | undefined) => v ?? '-';

/** The capture's slot in a few lines, with what to do when it is not healthy. */
export function captureText(s: CaptureStatusView): string {
  if (s.slotName === null) return 'No capture position yet: the router has not started capturing.\n';
  const lines = [
    `slot        ${s.slotName} (${s.slotExists ? (s.active ? 'active' : 'inactive: no router is reading it') : 'missing: the router recreates it and re-extracts every client'})`,
    `wal status  ${dash(s.walStatus)}`,
    `lag         ${s.lagBytes === null ? '-' : `${s.lagBytes} bytes`}, ${s.lagSeconds === null ? '-' : `${s.lagSeconds.toFixed(1)} s`}`,
    `position    ${dash(s.position)} (written ${dash(s.positionUpdatedAt)})`,
  ];
  return lines.join('\n') + '\n';
}

export function clientsTable(clients: ClientView[]): string {
  if (clients.length === 0)
    return 'No clients registered. Add one with: sync-admin clients add NAME --user LOGIN\n';
  return table(
    ['NAME', 'USER', 'STATUS', 'LAST SYNC', 'RESULT'],
    clients.map((c) => [
      c.name,
      c.userLogin,
      c.status,
      dash(c.lastSyncAt),
      c.lastSyncResult
        ? c.lastSyncResult.ok
          ? 'ok'
          : `failed${c.lastSyncResult.message ? `: ${c.lastSyncResult.message}` : ''}`
        : '-',
    ]),
  );
}

export function inboxTable(client: string, files: InboxFileView[]): string {
  if (files.length === 0) return `The inbox of ${client} is empty.\n`;
  const count = (pred: (f: InboxFileView) => boolean) => files.filter(pred).length;
  const summary =
    `${client}: ${count((f) => f.status === 'received' && !f.waiting)} received, ${count((f) => f.status === 'applied')} applied, ` +
    `${count((f) => f.waiting)} waiting, ${count((f) => f.status === 'quarantined')} quarantined` +
    `${count((f) => f.status === 'rejected') ? `, ${count((f) => f.status === 'rejected')} rejected` : ''}\n`;
  const rows = files.map((f) => [
    String(f.fileSeq),
    f.waiting ? 'waiting' : f.status,
    String(f.txnCount),
    String(f.size),
    f.receivedAt,
    f.status === 'quarantined'
      ? dash(f.reason)
      : f.status === 'rejected' || f.rejection
        ? `rejected: ${dash(f.rejection)} (was: ${dash(f.reason)})`
        : f.waiting
          ? 'behind an earlier file that is not applied'
          : '',
  ]);
  return summary + table(['FILE', 'STATUS', 'TXNS', 'BYTES', 'RECEIVED', 'REASON'], rows);
}

export function conflictsTable(conflicts: ConflictView[]): string {
  if (conflicts.length === 0) return 'No conflicts.\n';
  return table(
    ['AT', 'CLIENT', 'KIND', 'TABLE', 'ROW', 'COLUMN', 'WINNER', 'POLICY'],
    conflicts.map((c) => [
      c.at,
      c.clientOrigin,
      c.kind,
      c.table,
      c.rowId,
      dash(c.column),
      c.winner,
      c.policy,
    ]),
  );
}

export function refusalsTable(refusals: RefusalView[]): string {
  if (refusals.length === 0) return 'No refused changes.\n';
  return table(
    ['AT', 'CLIENT', 'USER', 'FILE', 'SEQ', 'OP', 'TABLE', 'ROW', 'CODE', 'REASON'],
    refusals.map((r) => [
      r.at,
      r.client,
      r.userLogin,
      String(r.fileSeq),
      String(r.txnSeq),
      r.op,
      r.table,
      r.rowId,
      r.code,
      r.reason,
    ]),
  );
}

export function authAuditTable(records: AuthAuditView[]): string {
  if (records.length === 0) return 'No failed or refused session opens.\n';
  return table(
    ['AT', 'CLIENT', 'FROM', 'OUTCOME', 'CODE'],
    records.map((r) => [r.at, r.clientName, r.sourceAddress, r.outcome, r.code]),
  );
}

/** A duration in seconds as the largest whole unit that fits: 45s, 12m, 3h, 2d. */
export function age(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

export function lagTable(lag: ClientLagView[]): string {
  if (lag.length === 0) return 'No clients registered.\n';
  const route = lag[0].route;
  const header =
    `router: ${route.pendingLogEntries} server log entries not routed yet` +
    (route.oldestPendingAgeSeconds === null ? '' : `, oldest ${age(route.oldestPendingAgeSeconds)} old`) +
    '\n';
  return (
    header +
    table(
      [
        'NAME',
        'STATUS',
        'LAST SYNC',
        'UP: PENDING',
        'QUARANTINED',
        'APPLY LAG',
        'DOWN: UNACKED',
        'OLDEST UNACKED',
        'ROUTE ERROR',
      ],
      lag.map((c) => [
        c.name,
        c.status,
        dash(c.lastSyncAt),
        `${c.inbox.pendingFiles} (${c.inbox.pendingBytes} B)`,
        String(c.inbox.quarantinedFiles),
        age(c.inbox.oldestPendingAgeSeconds),
        `${c.outbound.unackedFiles} (${c.outbound.unackedBytes} B)`,
        age(c.outbound.oldestUnackedAgeSeconds),
        c.route.lastError ? `${c.route.failures}x: ${c.route.lastError}` : '-',
      ]),
    )
  );
}
