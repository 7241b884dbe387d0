// Loaded through NODE_OPTIONS=--require by bench/profile.ts into every Node process of a benchmark
// row, Haraka's master and workers included. It watches BENCH_CPU_PROFILE_DIR for two trigger
// files: `start` starts V8's sampling profiler, `stop` writes the profile to <pid>.cpuprofile.
// Trigger files instead of signals, because Haraka already uses SIGUSR2 and node uses SIGUSR1.

import { existsSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import path from 'node:path'

const dir = process.env.BENCH_CPU_PROFILE_DIR

if (dir) {
  const session = new Session()
  session.connect()
  let state: 'waiting' | 'profiling' | 'written' = 'waiting'

  const poll = setInterval(() => {
    if (state === 'waiting' && existsSync(path.join(dir, 'start'))) {
      state = 'profiling'
      session.post('Profiler.enable', () => session.post('Profiler.start'))
    } else if (state === 'profiling' && existsSync(path.join(dir, 'stop'))) {
      state = 'written'
      clearInterval(poll)
      session.post('Profiler.stop', (err, result) => {
        const file = path.join(dir, `${process.pid}.cpuprofile`)
        if (err) writeFileSync(`${file}.error`, `Profiler.stop failed in pid ${process.pid}: ${err.message}\n`)
        else writeFileSync(file, JSON.stringify(result.profile))
        session.disconnect()
      })
    }
  }, 100)
  // The poll must not keep a process alive that would otherwise exit.
  poll.unref()
}
