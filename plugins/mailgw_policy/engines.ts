// The scanning engines of this Haraka process, created once from the EngineModule= setting of
// [mailgw.options]. The module path is checked at register(), so a wrong path stops the gateway
// before it listens; createEngines() runs on the first message.

import { createAntiSpamEngines } from '../../src/antispam/engine-factory'
import { createClamdEngines } from '../../src/av/engine-factory'
import type { MailgwConfig } from '../../src/config'
import { loadEngines } from '../../src/pipeline/engine-loader'
import type { EngineSet } from '../../src/pipeline/engines'

let engines: Promise<EngineSet> | null = null

export function engineModules(config: MailgwConfig): string[] {
  return config.options.EngineModule ? [config.options.EngineModule] : []
}

/** Throws when a configured engine module cannot be found. */
export function checkEngineModules(config: MailgwConfig): void {
  for (const modulePath of engineModules(config)) {
    try {
      require.resolve(modulePath)
    } catch {
      throw new Error(`EngineModule=${modulePath} of [mailgw.options] was not found: check the path`)
    }
  }
}

export function processEngines(config: MailgwConfig): Promise<EngineSet> {
  // The built-in engines come first, so an EngineModule can replace either of them.
  engines ??= loadEngines(config, engineModules(config), [createClamdEngines, createAntiSpamEngines]).catch((err: unknown) => {
    // A failed load is retried with the next message rather than cached.
    engines = null
    throw err
  })
  return engines
}
