// Process-wide state of the archive plugin: the loop mark key (created on first use in the
// instance directory, next to the queue) and the parsed notification templates.

import path from 'node:path'

import { loadLoopKey } from '../../src/archive/loop-mark'
import type { MailgwConfig } from '../../src/config'
import { TemplateCache } from '../../src/notify/template-config'

let loopKey: Buffer | null = null
let templates: TemplateCache | null = null

/** Returns the file of the loop mark key: var/loop-mark.key under the instance directory. */
export function loopKeyFile(config: Pick<MailgwConfig, 'dir'>): string {
  return path.resolve(path.dirname(config.dir), 'var', 'loop-mark.key')
}

export function gatewayLoopKey(config: Pick<MailgwConfig, 'dir'>): Buffer {
  loopKey ??= loadLoopKey(loopKeyFile(config))
  return loopKey
}

export function templateCache(): TemplateCache {
  templates ??= new TemplateCache()
  return templates
}
