import { Command, Option } from 'commander';
import { initClientFolder } from '../config/init-client';
import { Io } from '../io';
import { createProgress } from '../progress/sync-progress';
import {
  caOption,
  clientOption,
  dirOption,
  extractTimeoutOption,
  jsonOption,
  secretOption,
  serverOption,
} from './options';
import { describeSync } from './sync.command';

interface InitOptions {
  dir: string;
  server?: string;
  client?: string;
  secret?: string;
  ca?: string;
  schema: string;
  extract: boolean;
  json?: boolean;
  extractTimeout: number;
}

export function registerInitCommand(program: Command, io: Io): void {
  program
    .command('init')
    .description('create the client folder and local store, then download the initial extract')
    .addOption(dirOption())
    .addOption(serverOption('sync server URL, e.g. https://sync.example.com:8080').makeOptionMandatory())
    .addOption(clientOption('client name registered by the administrator').makeOptionMandatory())
    .addOption(secretOption('client secret given by the administrator').makeOptionMandatory())
    .addOption(caOption())
    .addOption(new Option('--schema <name>', 'synced schema').default('sales'))
    .option('--no-extract', 'only create the folder; download the extract at the next sync')
    .addOption(extractTimeoutOption())
    .addOption(jsonOption())
    .action(async (opts: InitOptions) => {
      const progress = createProgress({
        tty: io.tty && !opts.json,
        stream: io.stderr,
        notes: (l) => io.err(`${l}\n`),
      });
      const result = await initClientFolder(
        {
          dir: opts.dir,
          server: opts.server ?? '',
          client: opts.client ?? '',
          secret: opts.secret ?? '',
          caFile: opts.ca,
          schema: opts.schema,
        },
        { extract: opts.extract, extractTimeoutMs: opts.extractTimeout * 1000, progress },
      );
      if (opts.json) io.out(`${JSON.stringify(result)}\n`);
      else {
        io.out(`initialised ${result.dir} for client ${result.client}\n`);
        if (result.sync) io.out(`${describeSync(result.sync)}\n`);
        else io.out('no extract downloaded yet: run "sync-agent sync" to download it\n');
      }
    });
}
