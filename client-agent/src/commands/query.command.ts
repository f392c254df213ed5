import { Command } from 'commander';
import { loadAgentConfig } from '../config/agent-config';
import { Io } from '../io';
import { withLocalStore } from '../local-store/open-store';
import { formatTable, runQuery } from '../local-store/sql';
import { dirOption, jsonOption } from './options';

export function registerQueryCommand(program: Command, io: Io): void {
  program
    .command('query')
    .description('run one SQL query on the local store and print the rows')
    .argument('<sql>', 'one SELECT statement')
    .addOption(dirOption())
    .addOption(jsonOption())
    .action(async (sql: string, opts: { dir: string; json?: boolean }) => {
      const cfg = loadAgentConfig(opts.dir);
      const result = await withLocalStore(cfg, { exclusive: false }, (store) => runQuery(store, sql));
      io.out(opts.json ? `${JSON.stringify(result.rows)}\n` : formatTable(result.columns, result.rows));
    });
}
