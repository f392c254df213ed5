import { Command } from 'commander';
import { loadAgentConfig } from '../config/agent-config';
import { Io } from '../io';
import { withLocalStore } from '../local-store/open-store';
import { runStatement } from '../local-store/sql';
import { dirOption, jsonOption } from './options';

export function registerExecCommand(program: Command, io: Io): void {
  program
    .command('exec')
    .description('run one SQL write on the local store, as the laptop application would (it is captured)')
    .argument('<sql>', 'one SQL statement')
    .addOption(dirOption())
    .addOption(jsonOption())
    .action(async (sql: string, opts: { dir: string; json?: boolean }) => {
      const cfg = loadAgentConfig(opts.dir);
      const changes = await withLocalStore(cfg, { exclusive: false }, (store) => runStatement(store, sql));
      io.out(
        opts.json
          ? `${JSON.stringify({ changes })}\n`
          : `${changes} row${changes === 1 ? '' : 's'} changed\n`,
      );
    });
}
