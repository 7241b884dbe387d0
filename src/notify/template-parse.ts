/**
 * Parser of notification templates. A template file is a MIME entity: header fields, an empty line,
 * then the body. The parser checks the size limit, lexes the text (template-lexer.ts), reads the
 * header block field by field and builds the FOR tree of every header value and of the body. It
 * throws a TemplateError for the first error, with its line.
 */
import { lexTemplate, type LogicalLine, type Token } from './template-lexer';
import {
  MAX_TEMPLATE_BYTES,
  TemplateError,
  type DefNode,
  type HeaderFieldTemplate,
  type Template,
  type TemplateNode,
} from './template-syntax';

/** Header fields RFC 5322 (section 3.6) allows at most once in a message; a second one is rejected. */
const SINGLE_FIELDS = new Set([
  'date', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'message-id', 'in-reply-to', 'references', 'subject',
]);
/** Header fields the renderer writes itself, because it chooses the body charset and encoding. */
const RENDERER_FIELDS = new Set(['content-type', 'content-transfer-encoding']);
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/** Parses template text; `file` is used in error messages only. Throws TemplateError. */
export function parseTemplate(text: string, file: string): Template {
  checkSize(text, file);
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const lines = lexTemplate(src, file);
  const { headers, bodyStart } = parseHeaderBlock(lines, file);

  const bodyTokens: Token[] = [];
  for (const l of lines.slice(bodyStart)) {
    bodyTokens.push(...l.tokens);
    if (l.newline) bodyTokens.push({ type: 'text', text: '\n', line: l.line });
  }
  const body = buildTree(bodyTokens, file, undefined);
  return { file, headers, body };
}

function checkSize(text: string, file: string): void {
  const total = Buffer.byteLength(text);
  if (total <= MAX_TEMPLATE_BYTES) return;

  // Report the line that contains the first byte past the limit.
  let bytes = 0;
  let line = 1;
  for (const ch of text) {
    bytes += Buffer.byteLength(ch);
    if (bytes > MAX_TEMPLATE_BYTES) break;
    if (ch === '\n') line++;
  }
  throw new TemplateError(file, line, `template is ${total} bytes long; the maximum is ${MAX_TEMPLATE_BYTES} bytes (8 KB)`);
}

interface PendingField {
  name: string;
  line: number;
  tokens: Token[];
}

function parseHeaderBlock(
  lines: readonly LogicalLine[],
  file: string,
): { headers: (HeaderFieldTemplate | DefNode)[]; bodyStart: number } {
  const headers: (HeaderFieldTemplate | DefNode)[] = [];
  const seen = new Map<string, number>();
  let field: PendingField | undefined;
  let fieldCount = 0;

  const flush = (): void => {
    if (field === undefined) return;
    headers.push({ kind: 'field', name: field.name, value: buildTree(field.tokens, file, field.name), line: field.line });
    fieldCount++;
    field = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.blank) {
      flush();
      if (fieldCount === 0) fail(file, l.line, 'the template has no header fields; start it with header lines such as "Subject: ..." and put an empty line before the body');
      return { headers, bodyStart: i + 1 };
    }

    if (l.standalone) {
      const loop = l.tokens.find((tk) => tk.type === 'for' || tk.type === 'endfor');
      if (loop !== undefined) fail(file, loop.line, 'a FOR cannot enclose header fields; in the header block a FOR must open and close inside one field value');
      // A comment line keeps the field open for continuation lines; a DEF line ends it.
      if (l.tokens.length === 0) continue;
      flush();
      for (const tk of l.tokens) if (tk.type === 'def') headers.push({ kind: 'def', name: tk.name, value: tk.value, line: tk.line });
      continue;
    }

    const first = l.tokens[0];
    if (first.type === 'text' && /^[ \t]/.test(first.text)) {
      // A folded continuation line: the value goes on, the line break disappears.
      if (field === undefined) fail(file, l.line, 'a line that starts with white space continues a header field, but no field comes before it');
      field.tokens.push(...l.tokens);
      continue;
    }

    flush();
    field = startField(l, file, seen);
  }

  flush();
  if (fieldCount === 0) fail(file, 1, 'the template has no header fields; start it with header lines such as "Subject: ..." and put an empty line before the body');
  return { headers, bodyStart: lines.length };
}

function startField(l: LogicalLine, file: string, seen: Map<string, number>): PendingField {
  const first = l.tokens[0];
  const colon = first.type === 'text' ? first.text.indexOf(':') : -1;
  if (first.type !== 'text' || colon === -1) {
    fail(file, l.line, 'expected a header field "Name: value" or the empty line that ends the header block');
  }

  const name = first.text.slice(0, colon);
  if (name === '') fail(file, l.line, 'header field name is missing before ":"');
  if (!FIELD_NAME.test(name)) fail(file, l.line, `invalid header field name "${name}"; a name is printable ASCII without spaces or ":"`);

  const key = name.toLowerCase();
  if (RENDERER_FIELDS.has(key)) fail(file, l.line, `header field ${name} is written by the renderer (text/plain, UTF-8); remove it`);
  const earlier = seen.get(key);
  if (earlier !== undefined && SINGLE_FIELDS.has(key)) fail(file, l.line, `duplicate header field ${name}; it is already on line ${earlier}`);
  seen.set(key, l.line);

  const rest = first.text.slice(colon + 1);
  const tokens: Token[] = rest === '' ? [] : [{ type: 'text', text: rest, line: first.line }];
  tokens.push(...l.tokens.slice(1));
  return { name, line: l.line, tokens };
}

/** Builds the FOR tree of a token run; `fieldName` names the header field, undefined for the body. */
function buildTree(tokens: readonly Token[], file: string, fieldName: string | undefined): TemplateNode[] {
  interface Frame {
    open: Extract<Token, { type: 'for' }> | undefined;
    nodes: TemplateNode[];
  }
  const stack: Frame[] = [{ open: undefined, nodes: [] }];

  for (const tk of tokens) {
    const top = stack[stack.length - 1];
    switch (tk.type) {
      case 'text': {
        const last = top.nodes[top.nodes.length - 1];
        if (last?.kind === 'text') top.nodes[top.nodes.length - 1] = { kind: 'text', text: last.text + tk.text };
        else top.nodes.push({ kind: 'text', text: tk.text });
        break;
      }
      case 'macro':
        top.nodes.push({ kind: 'macro', name: tk.name, line: tk.line });
        break;
      case 'def':
        top.nodes.push({ kind: 'def', name: tk.name, value: tk.value, line: tk.line });
        break;
      case 'for':
        stack.push({ open: tk, nodes: [] });
        break;
      case 'endfor': {
        if (top.open === undefined) fail(file, tk.line, 'unexpected </FOR> without an open <FOR ...>');
        stack.pop();
        const { name, negate, mask, line } = top.open;
        stack[stack.length - 1].nodes.push({ kind: 'for', name, negate, mask, body: top.nodes, line });
        break;
      }
    }
  }

  const unclosed = stack[stack.length - 1].open;
  if (unclosed !== undefined) {
    const where = fieldName === undefined ? '' : ` in header field ${fieldName}`;
    const fix = fieldName === undefined ? 'add </FOR>' : 'close it with </FOR> inside the same field';
    fail(file, unclosed.line, `<FOR ${unclosed.name} ...>${where} is not closed; ${fix}`);
  }
  return stack[0].nodes;
}

function fail(file: string, line: number, message: string): never {
  throw new TemplateError(file, line, message);
}
