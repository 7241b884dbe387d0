// Loads the scanning engines named by EngineModule= of [mailgw.options]. Each entry is the path of
// a CommonJS module that exports
//
//   createEngines(context: { config: MailgwConfig }): Partial<EngineSet> | Promise<Partial<EngineSet>>
//
// Modules are applied in file order and a later module's engine replaces an earlier one of the
// same kind, so a site can swap in its own anti-spam engine and keep the built-in anti-virus one.
// A module that cannot be loaded, or that returns something that is not an engine, throws with
// the path and what is wrong, which stops the gateway at start.

import type { MailgwConfig } from '../config'
import type { AntiSpamEngine, AntiVirusEngine, EngineSet } from './engines'

export interface EngineFactoryContext {
  config: MailgwConfig
}

export type EngineFactory = (context: EngineFactoryContext) => Partial<EngineSet> | Promise<Partial<EngineSet>>

export async function loadEngines(
  config: MailgwConfig,
  modulePaths: readonly string[],
  builtins: readonly EngineFactory[] = [],
): Promise<EngineSet> {
  const engines: EngineSet = { antispam: null, antivirus: null }
  const factories: { source: string; factory: EngineFactory }[] = builtins.map((factory) => ({ source: 'built-in', factory }))
  for (const modulePath of modulePaths) factories.push({ source: modulePath, factory: loadFactory(modulePath) })

  for (const { source, factory } of factories) {
    const provided = await factory({ config })
    if (provided === null || typeof provided !== 'object') {
      throw new Error(`engine module ${source}: createEngines must return an object with antispam and/or antivirus`)
    }
    if (provided.antispam) engines.antispam = checkAntiSpam(source, provided.antispam)
    if (provided.antivirus) engines.antivirus = checkAntiVirus(source, provided.antivirus)
  }
  return engines
}

function loadFactory(modulePath: string): EngineFactory {
  let loaded: unknown
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the path comes from mailgw.conf at run time
    loaded = require(modulePath)
  } catch (err) {
    throw new Error(`engine module ${modulePath} could not be loaded: ${(err as Error).message}`, { cause: err })
  }
  const factory = (loaded as { createEngines?: unknown } | null)?.createEngines
  if (typeof factory !== 'function') {
    throw new Error(`engine module ${modulePath} does not export a createEngines function`)
  }
  return factory as EngineFactory
}

function checkCommon(source: string, kind: string, engine: Record<string, unknown>, method: string): void {
  const problems: string[] = []
  if (typeof engine.name !== 'string' || engine.name === '') problems.push('name must be a non-empty string')
  if (typeof engine.version !== 'string') problems.push('version must be a string')
  if (!Array.isArray(engine.settingsKeys)) problems.push('settingsKeys must be an array of policy key names')
  if (typeof engine[method] !== 'function') problems.push(`${method} must be a function`)
  if (problems.length > 0) throw new Error(`engine module ${source}: invalid ${kind} engine: ${problems.join('; ')}`)
}

function checkAntiSpam(source: string, engine: AntiSpamEngine): AntiSpamEngine {
  checkCommon(source, 'antispam', engine as unknown as Record<string, unknown>, 'check')
  return engine
}

function checkAntiVirus(source: string, engine: AntiVirusEngine): AntiVirusEngine {
  checkCommon(source, 'antivirus', engine as unknown as Record<string, unknown>, 'scan')
  if (typeof engine.bases !== 'function') throw new Error(`engine module ${source}: invalid antivirus engine: bases must be a function`)
  return engine
}
