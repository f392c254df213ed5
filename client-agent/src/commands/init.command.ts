import { Command, Option } from 'commander';
import { initClientFolder } from '../config/init-client';
import { assertServerTransport } from '../config/server-transport';
import { Io } from '../io';
import { createProgress } from '../progress/sync-progress';
import {
  caOption,
  clientOption,
  dirOption,
  extractTimeoutOption,
  insecureHttpFrom,
  insecureHttpOption,
  jsonOption,
  secretFrom,
  secretOption,
  secretStdinOption,
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
    .addOption(secretOption('client secret given by the administrator (or --secret-stdin)'))
    .addOption(secretStdinOption())
    .addOption(caOption())
    .addOption(insecureHttpOption())
    .addOption(new Option('--schema <name>', 'synced schema').default('sales'))
    .option('--no-extract', 'only create the folder; download the extract at the next sync')
    .addOption(extractTimeoutOption())
    .addOption(jsonOption())
    .action(async (opts: InitOptions, cmd: Command) => {
      // Before asking for the secret on a terminal: no point typing it for a URL that is refused.
      assertServerTransport(opts.server ?? '', insecureHttpFrom(cmd), '--server or SYNC_AGENT_SERVER');
      const secret = await secretFrom(cmd, io);
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
          secret: secret ?? '',
          caFile: opts.ca,
          insecureHttp: insecureHttpFrom(cmd),
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
