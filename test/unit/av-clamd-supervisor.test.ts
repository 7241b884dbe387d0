// superviseClamd with an in-memory process in place of clamd: the restart delays, the log lines,
// and stop() during a pending restart. test/e2e/clamd-restart.test.ts kills a real clamd.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { RunningClamd } from '../../src/av/clamd-service';
import { superviseClamd } from '../../src/av/clamd-supervisor';

interface FakeClamd extends RunningClamd {
  /** Ends the process as a crash would, with the given status. */
  crash(status: string): void;
  stopped: boolean;
}

let nextPid = 1000;

function fakeClamd(): FakeClamd {
  let exit: (status: string) => void = () => undefined;
  const exited = new Promise<string>((resolve) => (exit = resolve));
  const clamd: FakeClamd = {
    address: '/tmp/fake/clamd.sock',
    pid: nextPid++,
    confPath: '/tmp/fake/clamd.conf',
    logPath: '/tmp/fake/clamd.log',
    exited,
    logTail: () => 'last lines of /tmp/fake/clamd.log:\nfake log line',
    stopped: false,
    crash: (status) => exit(status),
    stop: async () => {
      clamd.stopped = true;
      exit('signal SIGTERM');
    },
  };
  return clamd;
}

function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 5);
    };
    poll();
  });
}

describe('superviseClamd', () => {
  it('doubles the delay up to the maximum', async () => {
    const lines: string[] = [];
    const started: FakeClamd[] = [];
    let failuresLeft = 4;
    const start = async (): Promise<RunningClamd> => {
      if (started.length > 0 && failuresLeft-- > 0) throw new Error('clamd exited with exit code 1 before replying to PING');
      const clamd = fakeClamd();
      started.push(clamd);
      return clamd;
    };
    const supervised = await superviseClamd({ name: 'test clamd', start, log: (line) => lines.push(line), initialDelayMs: 10, maxDelayMs: 40 });

    started[0].crash('signal SIGKILL');
    await waitFor(() => started.length === 2, 'the restart');

    assert.match(lines[0], /^test clamd \(pid \d+\) exited unexpectedly with signal SIGKILL after \d+(\.\d+)? s\. last lines of \/tmp\/fake\/clamd\.log:\nfake log line$/);
    const delays = lines.filter((line) => line.includes('restart attempt') && line.includes(' in '));
    assert.deepEqual(delays, [
      'test clamd: restart attempt 1 in 0.01 s',
      'test clamd: restart attempt 2 in 0.02 s',
      'test clamd: restart attempt 3 in 0.04 s',
      'test clamd: restart attempt 4 in 0.04 s',
      'test clamd: restart attempt 5 in 0.04 s',
    ]);
    assert.ok(lines.includes('test clamd: restart attempt 1 failed: clamd exited with exit code 1 before replying to PING'), lines.join('\n'));
    assert.equal(lines.at(-1), `test clamd restarted after 5 attempts: pid ${started[1].pid}, listening on /tmp/fake/clamd.sock`);
    assert.equal(supervised.current, started[1]);

    await supervised.stop();
    assert.equal(started[1].stopped, true);
  });

  it('stop does not restart', async () => {
    const lines: string[] = [];
    const started: FakeClamd[] = [];
    const start = async (): Promise<RunningClamd> => {
      const clamd = fakeClamd();
      started.push(clamd);
      return clamd;
    };
    const supervised = await superviseClamd({ name: 'test clamd', start, log: (line) => lines.push(line), initialDelayMs: 10 });

    await supervised.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(started.length, 1);
    assert.deepEqual(lines, []);
  });

  it('stop cancels a pending restart', async () => {
    const lines: string[] = [];
    const started: FakeClamd[] = [];
    const start = async (): Promise<RunningClamd> => {
      const clamd = fakeClamd();
      started.push(clamd);
      return clamd;
    };
    const supervised = await superviseClamd({ name: 'test clamd', start, log: (line) => lines.push(line), initialDelayMs: 50 });

    started[0].crash('exit code 2');
    await waitFor(() => lines.some((line) => line.includes('restart attempt 1 in')), 'the restart log line');
    await supervised.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(started.length, 1, 'no clamd started after stop');
  });

  it('long run resets the delay', async () => {
    const lines: string[] = [];
    const started: FakeClamd[] = [];
    const start = async (): Promise<RunningClamd> => {
      const clamd = fakeClamd();
      started.push(clamd);
      return clamd;
    };
    const supervised = await superviseClamd({ name: 'test clamd', start, log: (line) => lines.push(line), initialDelayMs: 10, stableAfterMs: 30 });

    started[0].crash('signal SIGSEGV');
    await waitFor(() => started.length === 2, 'the first restart');
    await new Promise((resolve) => setTimeout(resolve, 60));
    started[1].crash('signal SIGSEGV');
    await waitFor(() => started.length === 3, 'the second restart');

    const delays = lines.filter((line) => line.includes('restart attempt') && line.includes(' in '));
    assert.deepEqual(delays, ['test clamd: restart attempt 1 in 0.01 s', 'test clamd: restart attempt 1 in 0.01 s']);
    await supervised.stop();
  });
});
