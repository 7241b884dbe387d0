/**
 * Reading template files: UTF-8 check, parse, and the set of templates the gateway needs. Read
 * errors (missing file, no permission) are thrown as the fs error; template errors as TemplateError.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTemplate } from './template-parse';
import { TemplateError, type Template } from './template-syntax';

/** Templates the gateway loads from its template directory, by file name without `.tmpl`. */
export const TEMPLATE_NAMES = ['admin', 'recipient', 'sender', 'placeholder', 'dsn'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export type TemplateCheck = { ok: true } | { ok: false; error: TemplateError };

/** Reads and parses a template file. Throws TemplateError for invalid content, the fs error when unreadable. */
export function loadTemplate(path: string): Template {
  const bytes = readFileSync(path);
  return parseTemplate(decodeUtf8(bytes, path), path);
}

/** Checks a template file. Throws only when the file cannot be read. */
export function checkTemplateFile(path: string): TemplateCheck {
  try {
    loadTemplate(path);
    return { ok: true };
  } catch (err) {
    if (err instanceof TemplateError) return { ok: false, error: err };
    throw err;
  }
}

/**
 * Loads every template in TEMPLATE_NAMES from a directory, as the gateway does at start-up: a
 * missing or invalid template fails the whole set.
 */
export function loadTemplateSet(dir: string): Record<TemplateName, Template> {
  const set: Partial<Record<TemplateName, Template>> = {};
  for (const name of TEMPLATE_NAMES) set[name] = loadTemplate(join(dir, `${name}.tmpl`));
  return set as Record<TemplateName, Template>;
}

/** Decodes UTF-8, reporting the line of the first invalid byte sequence. */
function decodeUtf8(bytes: Buffer, file: string): string {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return decoder.decode(bytes);
  } catch {
    // An LF byte never occurs inside a multi-byte sequence, so each line can be decoded on its own.
    let start = 0;
    for (let line = 1; ; line++) {
      const end = bytes.indexOf(0x0a, start);
      const chunk = bytes.subarray(start, end === -1 ? bytes.length : end);
      try {
        decoder.decode(chunk);
      } catch {
        throw new TemplateError(file, line, 'invalid UTF-8 byte sequence; save the template as UTF-8');
      }
      if (end === -1) throw new TemplateError(file, line, 'invalid UTF-8 byte sequence; save the template as UTF-8');
      start = end + 1;
    }
  }
}
