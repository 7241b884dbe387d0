// Applies the object actions of one copy to its message bytes: `remove` deletes the object,
// `placeholder` puts a text part rendered from the placeholder template in its place, `cure`
// puts the engine's disinfected bytes in its place. rebuildMessage keeps every other byte.
//
// `cure` without disinfected bytes removes the object: clamd cannot disinfect, so an object only
// reaches that action when a custom engine claims a cure and then sends none, and the infected
// bytes must not be delivered.

import fs from 'node:fs';

import libmime from 'libmime';

import type { MailgwConfig, PolicySettings } from '../config';
import { rebuildMessage, splitMessage, type ObjectEdit } from '../mime';
import { loadTemplate, renderTemplateParts, type Template } from '../notify/template';
import { templatePath } from '../notify/template-config';
import type { ObjectOutcome } from '../pipeline/copy';

export interface PlaceholderContext {
  /** Returns the placeholder template; called only when an edit needs it. */
  template: () => Template;
  hostname: string;
  postmaster: string;
  queueId: string;
  /** Product name and version for %VERSION%. */
  product: string;
}

/** Returns an ObjectEditor for one message; the context fills the template's message macros. */
export function objectEditor(context: PlaceholderContext): (raw: Buffer, edits: readonly ObjectOutcome[]) => Buffer {
  return (raw, edits) => {
    // %OBJECT_SIZE% needs the decoded size of each object. Outcomes built without one (by an
    // engine module's own pipeline) get it from a new split of the message.
    let sizes: Map<string, number> | null = null;
    const sizeOf = (outcome: ObjectOutcome): number => {
      if (outcome.size !== undefined) return outcome.size;
      sizes ??= new Map(splitMessage(raw).objects.map((object) => [object.id, object.size]));
      return sizes.get(outcome.id) ?? 0;
    };
    const plan = new Map<string, ObjectEdit>();
    for (const outcome of edits) {
      const edit = editFor(outcome, sizeOf(outcome), context);
      if (edit) plan.set(outcome.id, edit);
    }
    return rebuildMessage(raw, plan);
  };
}

function editFor(outcome: ObjectOutcome, size: number, context: PlaceholderContext): ObjectEdit | null {
  switch (outcome.action) {
    case 'pass':
      return null;
    case 'remove':
      return { kind: 'remove' };
    case 'cure':
      if (!outcome.cured) return { kind: 'remove' };
      return {
        kind: 'replace',
        contentType: outcome.contentType,
        ...(outcome.filename ? { filename: outcome.filename } : {}),
        body: outcome.cured,
      };
    case 'placeholder':
      return placeholderEdit(outcome, size, context);
  }
}

function placeholderEdit(outcome: ObjectOutcome, size: number, context: PlaceholderContext): ObjectEdit {
  const rendered = renderTemplateParts(context.template(), {
    message: { HOSTNAME: context.hostname, POSTMASTER: context.postmaster, QUEUE_ID: context.queueId, VERSION: context.product },
    objects: [
      {
        name: outcome.filename ?? `part ${outcome.id}`,
        type: outcome.contentType,
        size,
        status: outcome.status.slice('av/'.length),
        virus: outcome.detail ?? '',
        action: outcome.action,
      },
    ],
  });
  return {
    kind: 'replace',
    contentType: 'text/plain; charset=utf-8',
    body: rendered.body,
    headers: rendered.headers.map(({ name, value }) => ({ name, value: libmime.encodeWords(value, 'Q', 52) })),
  };
}

const templates = new Map<string, { mtimeMs: number; template: Template }>();

/** Loads a placeholder template, reusing the parsed one while the file is unchanged. Throws on a missing or invalid file. */
export function placeholderTemplate(file: string): Template {
  const mtimeMs = fs.statSync(file).mtimeMs;
  const cached = templates.get(file);
  if (cached && cached.mtimeMs === mtimeMs) return cached.template;
  const template = loadTemplate(file);
  templates.set(file, { mtimeMs, template });
  return template;
}

/** The ObjectEditor of one copy: its group's PlaceholderTemplate and the gateway's names. */
export function copyObjectEditor(
  settings: PolicySettings,
  config: Pick<MailgwConfig, 'network'>,
  queueId: string,
  product: string,
): (raw: Buffer, edits: readonly ObjectOutcome[]) => Buffer {
  return objectEditor({
    // The shipped template is used when TemplatesPath has none, as for the notification templates.
    template: () => placeholderTemplate(templatePath(settings, 'PlaceholderTemplate')),
    hostname: config.network.Hostname,
    postmaster: config.network.Postmaster,
    queueId,
    product,
  });
}
