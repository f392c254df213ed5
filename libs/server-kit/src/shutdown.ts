import { Logger } from '@nestjs/common';

const FORCE_EXIT_MS = 10_000;

/**
 * For a service's main.ts: on SIGINT/SIGTERM, run `close` once, then exit; a hung close is cut
 * short after FORCE_EXIT_MS so a stop never wedges a deployment. Only entry points call this.
 */
export function closeOnSignals(name: string, close: () => Promise<void>): void {
  const logger = new Logger(name);
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received, shutting down`);
    setTimeout(() => {
      logger.error(`shutdown took over ${FORCE_EXIT_MS} ms, exiting`);
      process.exit(1);
    }, FORCE_EXIT_MS).unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
