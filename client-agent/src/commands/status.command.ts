import { Command } from 'commander';
import { loadAgentConfig } from '../config/agent-config';
import { Io } from '../io';
import { withLocalStore } from '../local-store/open-store';
import { AgentStatus, readStatus } from '../local-store/status';
import { dirOption, jsonOption } from './options';

function describe(s: AgentStatus): string {
  const last = s.lastSync
    ? `${s.lastSync.at} ${s.lastSync.ok ? 'ok' : `failed: ${s.lastSync.message ?? ''}`} (uploaded ${s.lastSync.uploadedFiles}, downloaded ${s.lastSync.downloadedFiles} files)`
    : 'never';
  const lines = [
    `client                 ${s.client} (${s.userLogin ?? 'user not known yet'}) at ${s.server}`,
    `schema                 ${s.schema.name} v${s.schema.version}`,
    `pending changes        ${s.pendingTransactions} (not yet in an outbox file)`,
    `outbox files           ${s.outboxFiles} (waiting to be sent)`,
    `awaiting confirmation  ${s.awaitingConfirmation} changes (sent, not yet applied by the server)`,
    `downloaded up to       epoch ${s.download.epoch}, file ${s.download.fileSeq}`,
    `last sync              ${last}`,
    `conflicts              ${s.conflicts.length} in the last sync`,
    `waiting for            ${s.waitingFor.length === 0 ? 'nothing' : s.waitingFor.length === 1 ? s.waitingFor[0] : ''}`,
  ];
  if (s.waitingFor.length > 1) for (const w of s.waitingFor) lines.push(`  - ${w}`);
  for (const r of s.rejected) lines.push(`rejected               ${r}`);
  for (const c of s.conflicts) {
    lines.push(
      `  ${c.kind} ${c.table} ${c.rowId}${c.column ? `.${c.column}` : ''}: ${c.winner} won (${c.policy})`,
    );
  }
  lines.push(`refused changes        ${s.refusals.length} (not applied by the server)`);
  for (const r of s.refusals)
    lines.push(`  seq ${r.txnSeq} ${r.op} ${r.table} ${r.rowId}: ${r.code}: ${r.reason}`);
  return `${lines.join('\n')}\n`;
}

export function registerStatusCommand(program: Command, io: Io): void {
  program
    .command('status')
    .description('show what is pending in each direction and the last sync')
    .addOption(dirOption())
    .addOption(jsonOption())
    .action(async (opts: { dir: string; json?: boolean }) => {
      const cfg = loadAgentConfig(opts.dir);
      const status = await withLocalStore(cfg, { exclusive: false }, (store) => readStatus(cfg, store));
      io.out(opts.json ? `${JSON.stringify(status)}\n` : describe(status));
    });
}
