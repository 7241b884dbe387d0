/**
 * Renderer of parsed notification templates. It walks the parsed tree with the values of one
 * notification; values are substituted as plain text and never parsed as template syntax.
 *
 * Safety rules: every value loses its control characters other than tab and line breaks, and is
 * cut to 4096 bytes. In header fields every line break becomes a space, so a sender-controlled
 * Subject cannot add a header field. Non-ASCII header text is RFC 2047 encoded.
 */
import { encodeWord, encodeWords, foldLines } from 'nodemailer/lib/mime-funcs';
import { encode as encodeQuotedPrintable, wrap as wrapQuotedPrintable } from 'nodemailer/lib/qp';
import { FAILED_RCPT_MACROS, OBJECT_MACROS, macroRecordKind, type FailedRcptMacro, type ObjectMacro } from './macros';
import type { TemplateData } from './template-data';
import { MAX_VALUE_BYTES, type ForNode, type Template, type TemplateNode } from './template-syntax';

/** A rendered header field; the value is decoded text on one line. */
export interface RenderedHeader {
  readonly name: string;
  readonly value: string;
}

/** A rendered template before MIME encoding; body line breaks are CRLF. */
export interface RenderedParts {
  readonly headers: readonly RenderedHeader[];
  readonly body: string;
}

/** RFC 5322 limit of a line without its CRLF. */
const MAX_LINE_LENGTH = 998;
const FOLD_WIDTH = 76;
const ENCODED_WORD_LENGTH = 52;

/**
 * Renders a template into a complete MIME entity with CRLF line breaks. The template's header
 * fields come first, then Content-Type (text/plain, UTF-8) and Content-Transfer-Encoding, an empty
 * line and the body. The body is 7bit, or quoted-printable when it has non-ASCII text or a line
 * over 998 characters. A header field whose value renders empty is left out.
 */
export function renderTemplate(template: Template, data: TemplateData): string {
  const parts = renderTemplateParts(template, data);
  const lines = parts.headers.map((h) => formatHeader(h));
  const body = encodeBody(parts.body);
  lines.push('Content-Type: text/plain; charset=utf-8', `Content-Transfer-Encoding: ${body.encoding}`);
  return `${lines.join('\r\n')}\r\n\r\n${body.text}`;
}

/** Renders header values and body as text, for callers that build the MIME entity themselves. */
export function renderTemplateParts(template: Template, data: TemplateData): RenderedParts {
  const renderer = new Renderer(data);
  const headers: RenderedHeader[] = [];
  for (const entry of template.headers) {
    if (entry.kind === 'def') {
      renderer.renderNodes([entry]);
      continue;
    }
    const value = headerValue(renderer.renderNodes(entry.value));
    if (value !== '') headers.push({ name: entry.name, value });
  }
  const body = renderer.renderNodes(template.body).replace(/\r\n|\r|\n/g, '\r\n');
  return { headers, body };
}

type Binding = ReadonlyMap<string, string>;

class Renderer {
  private readonly message = new Map<string, string[]>();
  private readonly objects: Binding[];
  private readonly failedRecipients: Binding[];
  private readonly variables = new Map<string, string>();
  private readonly loops: Binding[] = [];

  constructor(data: TemplateData) {
    for (const [name, value] of Object.entries(data.message)) {
      if (value === undefined) continue;
      const values: readonly string[] = typeof value === 'string' ? [value] : value;
      this.message.set(name, values.map(cleanValue));
    }
    this.objects = (data.objects ?? []).map((o) => {
      const fields: Record<ObjectMacro, string> = {
        OBJECT: o.name,
        OBJECT_NAME: o.name,
        OBJECT_TYPE: o.type,
        OBJECT_SIZE: String(o.size),
        OBJECT_STATUS: o.status,
        OBJECT_VIRUS: o.virus ?? '',
        OBJECT_ACTION: o.action,
      };
      return recordBinding(fields, OBJECT_MACROS);
    });
    this.failedRecipients = (data.failedRecipients ?? []).map((r) => {
      const fields: Record<FailedRcptMacro, string> = {
        FAILED_RCPT: r.address,
        FAILED_RCPT_STATUS: r.status,
        FAILED_RCPT_REASON: r.reason,
        FAILED_RCPT_HOST: r.remoteHost ?? '',
      };
      return recordBinding(fields, FAILED_RCPT_MACROS);
    });
    // Set after the data so that a stray key in data.message cannot replace a constant or a count.
    this.message.set('CRLF', ['\r\n']);
    this.message.set('TAB', ['\t']);
    this.message.set('OBJECT_COUNT', [String(this.objects.length)]);
    this.message.set('FAILED_RCPT_COUNT', [String(this.failedRecipients.length)]);
  }

  renderNodes(nodes: readonly TemplateNode[]): string {
    let out = '';
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          out += node.text;
          break;
        case 'macro': {
          const values = this.lookup(node.name);
          out += values.length === 0 ? '' : values[values.length - 1].value;
          break;
        }
        case 'def':
          this.variables.set(node.name, truncateValue(this.renderNodes(node.value)));
          break;
        case 'for':
          out += this.renderLoop(node);
          break;
      }
    }
    return out;
  }

  private renderLoop(node: ForNode): string {
    const mask = maskPattern(node);
    let out = '';
    for (const { value, binding } of this.lookup(node.name)) {
      if (mask.test(value) === node.negate) continue;
      this.loops.push(binding);
      try {
        out += this.renderNodes(node.body);
      } finally {
        this.loops.pop();
      }
    }
    return out;
  }

  /**
   * Returns the values of a macro, each with the binding a FOR over it sets: the enclosing loop's
   * element first, then DEF variables, then the data. A FOR over a member of an object or failed
   * recipient binds every member of the same record.
   */
  private lookup(name: string): { value: string; binding: Binding }[] {
    for (let i = this.loops.length - 1; i >= 0; i--) {
      const value = this.loops[i].get(name);
      if (value !== undefined) return [{ value, binding: this.loops[i] }];
    }

    const variable = this.variables.get(name);
    if (variable !== undefined) return [{ value: variable, binding: new Map([[name, variable]]) }];

    const kind = macroRecordKind(name);
    if (kind !== undefined) {
      const records = kind === 'object' ? this.objects : this.failedRecipients;
      return records.map((binding) => ({ value: binding.get(name) ?? '', binding }));
    }

    return (this.message.get(name) ?? []).map((value) => ({ value, binding: new Map([[name, value]]) }));
  }
}

function recordBinding<K extends string>(fields: Record<K, string>, catalogue: Record<K, string>): Binding {
  const binding = new Map<string, string>();
  for (const name of Object.keys(catalogue) as K[]) binding.set(name, cleanValue(fields[name]));
  return binding;
}

/** Removes control characters other than tab and line breaks, then cuts the value to the size limit. */
function cleanValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  return truncateValue(value.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, ''));
}

/** Cuts a value to MAX_VALUE_BYTES of UTF-8 without splitting a character. */
function truncateValue(value: string): string {
  if (Buffer.byteLength(value) <= MAX_VALUE_BYTES) return value;
  let bytes = 0;
  let end = 0;
  for (const ch of value) {
    bytes += Buffer.byteLength(ch);
    if (bytes > MAX_VALUE_BYTES) break;
    end += ch.length;
  }
  return value.slice(0, end);
}

const maskCache = new WeakMap<ForNode, RegExp>();

/** Compiles a FOR mask: `*` any run of characters, `?` one character, case-insensitive. */
function maskPattern(node: ForNode): RegExp {
  let pattern = maskCache.get(node);
  if (pattern === undefined) {
    const source = Array.from(node.mask, (ch) => {
      if (ch === '*') return '.*';
      if (ch === '?') return '.';
      return ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    }).join('');
    pattern = new RegExp(`^${source}$`, 'isu');
    maskCache.set(node, pattern);
  }
  return pattern;
}

/** Turns a rendered header value into one safe line: line breaks and controls become spaces. */
function headerValue(rendered: string): string {
  // eslint-disable-next-line no-control-regex
  return rendered.replace(/[\x00-\x08\x0a-\x1f\x7f]+/g, ' ').trim();
}

/** Formats one header field: RFC 2047 encoded where needed and folded at 76 columns. */
function formatHeader(header: RenderedHeader): string {
  const folded = fold(header.name, encodeWords(header.value, 'Q', ENCODED_WORD_LENGTH));
  if (folded.split('\r\n').every((line) => line.length <= MAX_LINE_LENGTH)) return folded;
  // A word too long to fold (a long run without spaces) is split into encoded words instead.
  return fold(header.name, encodeWord(header.value, 'Q', ENCODED_WORD_LENGTH));
}

function fold(name: string, value: string): string {
  return foldLines(`${name}: ${value}`, FOLD_WIDTH).replace(/\s+$/, '');
}

function encodeBody(body: string): { encoding: '7bit' | 'quoted-printable'; text: string } {
  const ascii = Buffer.byteLength(body) === body.length;
  const shortLines = body.split('\r\n').every((line) => line.length <= MAX_LINE_LENGTH);
  if (ascii && shortLines) return { encoding: '7bit', text: body };
  return { encoding: 'quoted-printable', text: wrapQuotedPrintable(encodeQuotedPrintable(body), FOLD_WIDTH) };
}
