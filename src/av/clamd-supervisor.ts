// Keeps a private clamd running: when it exits without stop() being called, the supervisor logs
// the exit status and the tail of clamd's log, then starts it again after a delay that doubles
// from `initialDelayMs` to `maxDelayMs`. It keeps trying until stop(). A clamd that ran for
// `stableAfterMs` before it exited starts the count again from `initialDelayMs`.
//
// The socket path stays the same across restarts, so ClamdClient needs no change: while clamd is
// down, its requests fail with ClamdUnavailableError and the gateway replies 451 4.3.0.

import type { RunningClamd } from './clamd-service';

export interface ClamdSupervisorOptions {
  /** Name of this clamd in log lines, such as "local clamd (archives-mail)". */
  name: string;
  /** Starts clamd and resolves once it replies to PING, like startClamd. */
  start: () => Promise<RunningClamd>;
  log: (line: string) => void;
  /** Delay before the first restart attempt, in milliseconds. */
  initialDelayMs?: number;
  /** Upper bound of the doubling delay, in milliseconds. */
  maxDelayMs?: number;
  /** Run time after which an exit counts as new rather than as a repeat crash, in milliseconds. */
  stableAfterMs?: number;
  /** Lines of clamd's log file included in the exit message. */
  logTailLines?: number;
}

export interface SupervisedClamd {
  /** The clamd process started last. It may have exited while a restart is pending. */
  readonly current: RunningClamd;
  /** Stops clamd and cancels any pending restart. Safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_INITIAL_DELAY_MS = 1000;
const DEFAULT_MAX_DELAY_MS = 30_000;
const DEFAULT_STABLE_AFTER_MS = 60_000;
const DEFAULT_LOG_TAIL_LINES = 10;

/** Starts clamd with `options.start` and restarts it whenever it exits until stop(). The first start's errors are thrown. */
export async function superviseClamd(options: ClamdSupervisorOptions): Promise<SupervisedClamd> {
  const initialDelayMs = options.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const stableAfterMs = options.stableAfterMs ?? DEFAULT_STABLE_AFTER_MS;
  const { name, log } = options;

  let current = await options.start();
  let startedAt = Date.now();
  let stopping = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let pendingStart: Promise<void> | null = null;

  const delayOf = (attemptNumber: number): number => Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attemptNumber - 1, 30));

  const scheduleRestart = (): void => {
    attempt++;
    const delay = delayOf(attempt);
    log(`${name}: restart attempt ${attempt} in ${formatSeconds(delay)}`);
    timer = setTimeout(() => {
      timer = undefined;
      pendingStart = restart().finally(() => {
        pendingStart = null;
      });
    }, delay);
  };

  const restart = async (): Promise<void> => {
    let started: RunningClamd;
    try {
      started = await options.start();
    } catch (error) {
      if (stopping) return;
      log(`${name}: restart attempt ${attempt} failed: ${error instanceof Error ? error.message : String(error)}`);
      scheduleRestart();
      return;
    }
    current = started;
    startedAt = Date.now();
    if (stopping) {
      await started.stop();
      return;
    }
    log(`${name} restarted after ${attempt} attempt${attempt === 1 ? '' : 's'}: pid ${started.pid}, listening on ${started.address}`);
    watch(started);
  };

  const watch = (running: RunningClamd): void => {
    void running.exited.then((status) => {
      if (stopping) return;
      const ranMs = Date.now() - startedAt;
      if (ranMs >= stableAfterMs) attempt = 0;
      log(`${name} (pid ${running.pid}) exited unexpectedly with ${status} after ${formatSeconds(ranMs)}. ${running.logTail(options.logTailLines ?? DEFAULT_LOG_TAIL_LINES)}`);
      scheduleRestart();
    });
  };

  watch(current);

  return {
    get current() {
      return current;
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      if (pendingStart) await pendingStart;
      await current.stop();
    },
  };
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
