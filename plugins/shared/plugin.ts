// Helpers for writing Haraka hooks in TypeScript: the constants with their types, and a wrapper
// that turns an async hook into one that calls next() exactly once and answers DENYSOFT when the
// hook throws. Haraka 3 ignores return values and an async hook that rejects takes the whole
// process down, so every async hook of ours goes through `safeHook`.

import * as constants from 'haraka-constants'
import * as DSN from 'haraka-dsn'

export { constants, DSN }

// msg is a reply text, a DSN, or for get_mx the next hops.
export type HookResult = { code: number; msg?: unknown } | void

export function safeHook<A extends unknown[]>(
  name: string,
  fn: (this: Haraka.Plugin, ...args: A) => Promise<HookResult>,
): (this: Haraka.Plugin, next: Haraka.Next, ...args: A) => void {
  return function (this: Haraka.Plugin, next: Haraka.Next, ...args: A): void {
    let called = false
    const once: Haraka.Next = (code, msg) => {
      if (called) return
      called = true
      next(code, msg)
    }

    fn.apply(this, args).then(
      (result) => (result ? once(result.code, result.msg) : once()),
      (err: unknown) => {
        const detail = err instanceof Error ? (err.stack ?? err.message) : String(err)
        this.logerror(`${name} failed: ${detail}`)
        once(constants.denysoft, DSN.create(451, 'Temporary local problem, please try again later', 3, 0))
      },
    )
  }
}
