import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface S3rverChild {
  pid: number;
  env: { S3_ENDPOINT: string; S3_ACCESS_KEY: string; S3_SECRET_KEY: string };
  stop(): Promise<void>;
}

/** Starts `s3rver-process.js` and resolves once it prints its endpoint. */
export function startS3rverChild(): Promise<S3rverChild> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [join(__dirname, 's3rver-process.js')], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`the s3rver process exited (${code}) before it was ready: ${err.trim()}`)),
    );
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0];
      if (!out.includes('\n')) return;
      const info = JSON.parse(line) as { endpoint: string; accessKey: string; secretKey: string };
      resolve({
        pid: child.pid ?? 0,
        env: { S3_ENDPOINT: info.endpoint, S3_ACCESS_KEY: info.accessKey, S3_SECRET_KEY: info.secretKey },
        async stop() {
          child.stdin?.end();
          await exited;
        },
      });
    });
  });
}
