/**
 * Loaded with `node --require` into each service when the bench profiles them (NODE_OPTIONS may not
 * carry --cpu-prof): profiles the whole process and writes `<pid>.cpuprofile` into
 * BENCH_CPU_PROF_DIR when it exits. An in-thread inspector session answers synchronously, which is
 * what lets this work inside the 'exit' handler.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      mkdirSync(dir, { recursive: true });
      const script = (process.argv[1] ?? 'node').split('/').slice(-3, -2)[0] ?? 'node';
      writeFileSync(join(dir, `${script}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.on('exit', write);
  // NestJS shutdown hooks close the app, drop their listener and raise SIGTERM again to die by it:
  // write on the first one, and exit once this listener is the only one left.
  process.on('SIGTERM', () => {
    write();
    if (process.listenerCount('SIGTERM') === 1) process.exit(0);
  });
}
