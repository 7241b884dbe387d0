// The notification templates a configuration uses: the five template keys of [mailgw.policy] and
// of every group, resolved against TemplatesPath. A template that is missing there while its key
// keeps the shipped file name falls back to the template shipped in the package's
// config/templates, so a configuration directory needs no copy of templates it does not change.
// A template the administrator named and that does not exist is an error. `mailgw start` checks
// every template with checkConfiguredTemplates and does not start while one is broken.

import { existsSync } from 'node:fs'
import path from 'node:path'

import { packageRoot } from '../cli/paths'
import type { MailgwConfig, PolicySettings } from '../config'
import { loadTemplate, TemplateError, type Template } from './template'

export const TEMPLATE_KEYS = ['NotifyAdminTemplate', 'NotifyRecipientTemplate', 'NotifySenderTemplate', 'PlaceholderTemplate', 'DsnTemplate'] as const
export type TemplateKey = (typeof TEMPLATE_KEYS)[number]

/** File names of the shipped templates, the defaults of the template keys. */
export const SHIPPED_TEMPLATE: Record<TemplateKey, string> = {
  NotifyAdminTemplate: 'admin.tmpl',
  NotifyRecipientTemplate: 'recipient.tmpl',
  NotifySenderTemplate: 'sender.tmpl',
  PlaceholderTemplate: 'placeholder.tmpl',
  DsnTemplate: 'dsn.tmpl',
}

export function shippedTemplateDir(): string {
  return path.join(packageRoot(), 'config', 'templates')
}

/** Returns the file a template key names, or the shipped template when the file is missing and the key keeps the shipped name. */
export function templatePath(settings: PolicySettings, key: TemplateKey, shippedDir = shippedTemplateDir()): string {
  const configured = String(settings[key])
  if (existsSync(configured) || path.basename(configured) !== SHIPPED_TEMPLATE[key]) return configured
  const shipped = path.join(shippedDir, SHIPPED_TEMPLATE[key])
  return existsSync(shipped) ? shipped : configured
}

/** Checks every template the configuration uses; returns one line per broken or missing template. */
export function checkConfiguredTemplates(config: Pick<MailgwConfig, 'policy' | 'groups'>, shippedDir = shippedTemplateDir()): string[] {
  const errors: string[] = []
  const checked = new Set<string>()
  const scopes = [{ name: '[mailgw.policy]', settings: config.policy }, ...config.groups.map((g) => ({ name: `group ${g.name}`, settings: g.settings }))]
  for (const scope of scopes) {
    for (const key of TEMPLATE_KEYS) {
      const file = templatePath(scope.settings, key, shippedDir)
      if (checked.has(file)) continue
      checked.add(file)
      try {
        loadTemplate(file)
      } catch (err) {
        if (err instanceof TemplateError) errors.push(err.format())
        else errors.push(`${file}: template of ${key} in ${scope.name} cannot be read: ${(err as Error).message}`)
      }
    }
  }
  return errors
}

/** Parsed templates by file, each parsed once per process. */
export class TemplateCache {
  private readonly templates = new Map<string, Template>()

  constructor(private readonly shippedDir = shippedTemplateDir()) {}

  get(settings: PolicySettings, key: TemplateKey): Template {
    const file = templatePath(settings, key, this.shippedDir)
    let template = this.templates.get(file)
    if (!template) {
      template = loadTemplate(file)
      this.templates.set(file, template)
    }
    return template
  }
}
