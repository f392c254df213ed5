import { Command } from 'commander';
import { agentPaths, loadAgentConfig } from '../config/agent-config';
import { Io } from '../io';
import { LogRepository } from '../local-store/log.repository';
import { withLocalStore } from '../local-store/open-store';
import { Outbox } from '../outbox/outbox';
import { createExtractProgress } from '../progress/extract-progress';
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
      const progress = createExtractProgress({ tty: io.tty && !opts.json, stream: io.stderr });
      const result = await withLocalStore(cfg, { exclusive: true }, async (store) => {
        progress.begin(new LogRepository(store).pendingCount());
        try {
          return await new Outbox(store, agentPaths(cfg.dir), cfg.client, {
            written: (file) => progress.fileWritten(file.count),
          }).extract(opts.maxPerFile);
        } finally {
          progress.stop();
        }
      });
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
