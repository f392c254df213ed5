import { Command } from 'commander';
import { agentPaths, loadAgentConfig } from '../config/agent-config';
import { Io } from '../io';
import { withLocalStore } from '../local-store/open-store';
import { Outbox } from '../outbox/outbox';
import { dirOption, jsonOption, maxPerFileOption } from './options';

export function registerExtractCommand(program: Command, io: Io): void {
  program
    .command('extract')
    .description('turn pending local changes into upload DX files in DIR/outbox/')
    .addOption(dirOption())
    .addOption(maxPerFileOption())
    .addOption(jsonOption())
    .action(async (opts: { dir: string; maxPerFile: number; json?: boolean }) => {
      const cfg = loadAgentConfig(opts.dir);
      const result = await withLocalStore(cfg, { exclusive: true }, (store) =>
        new Outbox(store, agentPaths(cfg.dir), cfg.client).extract(opts.maxPerFile),
      );
      if (opts.json) io.out(`${JSON.stringify(result)}\n`);
      else if (result.files.length === 0) io.out('nothing to extract\n');
      else {
        const first = result.files[0].fileSeq;
        const last = result.files[result.files.length - 1].fileSeq;
        io.out(
          `extracted ${result.txns} changes into ${result.files.length} files (file seq ${first}..${last})\n`,
        );
      }
    });
}
