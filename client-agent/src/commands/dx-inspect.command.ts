import { Command } from 'commander';
import { DxFormatError, inspectDx } from '@outpost/dx-format';
import { AgentError, AgentErrorCode } from '../errors';
import { Io } from '../io';
import { jsonOption } from './options';

export function registerDxCommand(program: Command, io: Io): void {
  const dx = program.command('dx').description('DX file tools');
  dx.command('inspect')
    .description('print a DX file (header and transactions) and verify it')
    .argument('<file>', 'DX file')
    .addOption(jsonOption())
    .action(async (file: string, opts: { json?: boolean }) => {
      try {
        await inspectDx(file, io.stdout, { json: opts.json === true });
      } catch (err) {
        if (err instanceof DxFormatError) {
          throw new AgentError(AgentErrorCode.DxInvalid, `${file} is not a valid DX file: ${err.message}`, {
            dxCode: err.code,
            txIndex: err.txIndex,
            byteOffset: err.byteOffset,
          });
        }
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new AgentError(AgentErrorCode.DxInvalid, `${file} does not exist`);
        }
        throw err;
      }
    });
}
