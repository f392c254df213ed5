/**
 * s3rver in a process of its own, so that serving S3 does not share the bench's event loop with the
 * in-process agents it measures (MinIO would be a separate server too). Prints its endpoint as one
 * JSON line and stops when its parent closes stdin or sends SIGTERM.
 */
import { startS3rver } from '@outpost/test-support';

async function run(): Promise<void> {
  const server = await startS3rver();
  const { endpoint, accessKey, secretKey } = server;
  process.stdout.write(`${JSON.stringify({ endpoint, accessKey, secretKey })}\n`);
  const stop = () => void server.close().finally(() => process.exit(0));
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.once('SIGTERM', stop);
}

run().catch((error: unknown) => {
  process.stderr.write(`s3rver could not start: ${(error as Error).message}\n`);
  process.exit(1);
});
