/**
 * Lexer of the notification template language. It turns template text (LF line breaks) into
 * logical lines of tokens: escapes resolved, comments removed, `\` line joins applied, every macro
 * name checked against the catalogue and earlier DEFs. A line that contains only constructs and
 * comments is "standalone": its white space and line break are dropped, so a FOR or DEF on a line of
 * its own leaves no empty line in the output. The first error throws a TemplateError with its line.
 */
import { isCatalogueMacro } from './macros';
import { MAX_NAME_BYTES, MAX_VALUE_BYTES, TemplateError, type MacroNode, type TextNode } from './template-syntax';

export type Token =
  | { readonly type: 'text'; readonly text: string; readonly line: number }
  | { readonly type: 'macro'; readonly name: string; readonly line: number }
  | { readonly type: 'for'; readonly name: string; readonly negate: boolean; readonly mask: string; readonly line: number }
  | { readonly type: 'endfor'; readonly line: number }
  | { readonly type: 'def'; readonly name: string; readonly value: (TextNode | MacroNode)[]; readonly line: number };

export interface LogicalLine {
  /** Physical line the logical line starts on (1-based). */
  readonly line: number;
  readonly tokens: readonly Token[];
  /** Nothing on the line but white space. */
  readonly blank: boolean;
  /** Only constructs and comments on the line; its line break is dropped. */
  readonly standalone: boolean;
  /** The line ends with a line break that belongs to the output. */
  readonly newline: boolean;
}

const ESCAPABLE = new Set(['\\', '%', '/', '<', '>', '#', '"']);
const ESCAPE_LIST = '\\\\ \\% \\/ \\< \\> \\# \\" and "\\" at the end of a line';
const NAME_CHAR = /[A-Za-z0-9_-]/;
const CONSTRUCT_START = /<(\/?)([A-Za-z]*)/y;

interface LineBuilder {
  line: number;
  tokens: Token[];
  text: string;
  textLine: number;
  comment: boolean;
}

/** Splits template text (line breaks already LF) into logical lines of tokens. */
export function lexTemplate(src: string, file: string): LogicalLine[] {
  return new Lexer(src, file).run();
}

class Lexer {
  private pos = 0;
  private line = 1;
  private readonly defined = new Set<string>();
  private readonly out: LogicalLine[] = [];
  private cur: LineBuilder;

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {
    this.cur = this.newLine();
  }

  run(): LogicalLine[] {
    const src = this.src;
    while (this.pos < src.length) {
      const c = src[this.pos];
      if (c === '\n') {
        this.finishLine(true);
        this.pos++;
        this.line++;
        this.cur = this.newLine();
      } else if (c === '\\') {
        this.readEscape();
      } else if (c === '#') {
        this.skipComment();
      } else if (c === '%') {
        const ref = this.readMacroRef();
        this.pushToken({ type: 'macro', name: ref.name, line: ref.line });
      } else if (c === '<') {
        this.pushToken(this.readConstruct());
      } else {
        this.checkCharacter(c);
        this.appendText(c);
        this.pos++;
      }
    }
    if (this.cur.tokens.length > 0 || this.cur.text !== '' || this.cur.comment) this.finishLine(false);
    return this.out;
  }

  private fail(message: string, line = this.line): never {
    throw new TemplateError(this.file, line, message);
  }

  private newLine(): LineBuilder {
    return { line: this.line, tokens: [], text: '', textLine: this.line, comment: false };
  }

  private appendText(s: string): void {
    if (this.cur.text === '') this.cur.textLine = this.line;
    this.cur.text += s;
  }

  private flushText(): void {
    if (this.cur.text === '') return;
    this.cur.tokens.push({ type: 'text', text: this.cur.text, line: this.cur.textLine });
    this.cur.text = '';
  }

  private pushToken(token: Token): void {
    this.flushText();
    this.cur.tokens.push(token);
  }

  private finishLine(newline: boolean): void {
    this.flushText();
    const tokens = this.cur.tokens;
    const hasContent = tokens.some((tk) => tk.type === 'macro' || (tk.type === 'text' && /\S/.test(tk.text)));
    const hasConstruct = tokens.some((tk) => tk.type === 'for' || tk.type === 'endfor' || tk.type === 'def');
    const standalone = !hasContent && (hasConstruct || this.cur.comment);
    this.out.push({
      line: this.cur.line,
      tokens: standalone ? tokens.filter((tk) => tk.type !== 'text') : tokens,
      blank: !hasContent && !hasConstruct && !this.cur.comment,
      standalone,
      newline: newline && !standalone,
    });
  }

  private checkCharacter(c: string): void {
    const code = c.charCodeAt(0);
    if ((code < 0x20 && c !== '\t') || code === 0x7f) {
      const hex = code.toString(16).toUpperCase().padStart(4, '0');
      this.fail(`invalid control character U+${hex}; templates are plain text with tabs and line breaks`);
    }
  }

  /** Resolves a backslash outside strings: an escaped character or a line join. */
  private readEscape(): void {
    const next = this.src[this.pos + 1];
    if (next === '\n') {
      this.pos += 2;
      this.line++;
      return;
    }
    this.appendText(this.readEscapedChar());
  }

  /** Returns the character a `\x` escape at the current position stands for and moves past it. */
  private readEscapedChar(): string {
    const next = this.src[this.pos + 1];
    if (next === undefined) this.fail('"\\" at the end of the file; remove it or add the line it should join');
    if (!ESCAPABLE.has(next)) this.fail(`unknown escape "\\${next}"; the escapes are ${ESCAPE_LIST}`);
    this.pos += 2;
    return next;
  }

  private skipComment(): void {
    // Trailing blanks before a comment would end up as trailing white space in the message.
    this.cur.text = this.cur.text.replace(/[ \t]+$/, '');
    this.cur.comment = true;
    const end = this.src.indexOf('\n', this.pos);
    this.pos = end === -1 ? this.src.length : end;
  }

  /** Moves past `\` line joins inside a tag or string. */
  private skipJoins(): void {
    while (this.src[this.pos] === '\\' && this.src[this.pos + 1] === '\n') {
      this.pos += 2;
      this.line++;
    }
  }

  private skipBlanks(): void {
    for (;;) {
      this.skipJoins();
      const c = this.src[this.pos];
      if (c !== ' ' && c !== '\t') return;
      this.pos++;
    }
  }

  private readName(): string {
    let name = '';
    for (;;) {
      this.skipJoins();
      const c = this.src[this.pos];
      if (c === undefined || !NAME_CHAR.test(c)) return name;
      name += c;
      this.pos++;
    }
  }

  private describeNext(): string {
    const c = this.src[this.pos];
    if (c === undefined) return 'the end of the file';
    if (c === '\n') return 'the end of the line';
    return `"${c}"`;
  }

  private checkNameLength(name: string): void {
    if (name.length > MAX_NAME_BYTES) {
      this.fail(`name "${name.slice(0, 20)}..." is ${name.length} bytes long; the maximum is ${MAX_NAME_BYTES}`);
    }
  }

  private checkKnown(name: string, line: number): void {
    if (isCatalogueMacro(name) || this.defined.has(name)) return;
    const upper = name.toUpperCase();
    const hint =
      upper !== name && (isCatalogueMacro(upper) || this.defined.has(upper))
        ? ` (names are case-sensitive: did you mean ${upper}?)`
        : `; docs/templates.md lists the macros, and <DEF ${name} = "..."/> defines a variable before its use`;
    this.fail(`unknown macro ${name}${hint}`, line);
  }

  private readMacroRef(): MacroNode {
    const line = this.line;
    this.pos++;
    const name = this.readName();
    if (this.src[this.pos] !== '%') {
      if (name === '') this.fail('"%" starts a macro but no name follows; write \\% for a literal percent sign');
      this.fail(`macro %${name} is not closed with "%", found ${this.describeNext()}; write \\% for a literal percent sign`);
    }
    if (name === '') this.fail('empty macro name "%%"; write \\% for a literal percent sign');
    this.pos++;
    this.checkNameLength(name);
    this.checkKnown(name, line);
    return { kind: 'macro', name, line };
  }

  private readConstruct(): Token {
    CONSTRUCT_START.lastIndex = this.pos;
    const m = CONSTRUCT_START.exec(this.src);
    const slash = m?.[1] ?? '';
    const word = m?.[2] ?? '';
    if (slash === '/' && word === 'FOR') return this.readEndFor();
    if (slash === '' && word === 'FOR') return this.readFor();
    if (slash === '' && word === 'DEF') return this.readDef();
    const construct = word === '' && slash === '' ? `<${this.src[this.pos + 1] ?? ''}` : `<${slash}${word}`;
    return this.fail(
      `unknown construct "${construct.trimEnd()}"; the constructs are <FOR ...>, </FOR> and <DEF .../>, and \\< writes a literal "<"`,
    );
  }

  private readEndFor(): Token {
    const line = this.line;
    this.pos += '</FOR'.length;
    this.skipBlanks();
    if (this.src[this.pos] !== '>') this.fail(`expected ">" to close </FOR, found ${this.describeNext()}`);
    this.pos++;
    return { type: 'endfor', line };
  }

  private readFor(): Token {
    const line = this.line;
    this.pos += '<FOR'.length;
    this.skipBlanks();
    const name = this.readName();
    if (name === '') this.fail(`missing macro name after "<FOR", found ${this.describeNext()}`);
    this.checkNameLength(name);
    this.checkKnown(name, this.line);

    this.skipBlanks();
    let op = '';
    while (/[=!<>~]/.test(this.src[this.pos] ?? '')) op += this.src[this.pos++];
    if (op === '') this.fail(`missing operator after "<FOR ${name}", found ${this.describeNext()}; use == or !=`);
    if (op !== '==' && op !== '!=') this.fail(`invalid operator "${op}" in <FOR ${name} ...>; use == or !=`);

    this.skipBlanks();
    if (this.src[this.pos] !== '"') {
      this.fail(`missing quoted mask after "<FOR ${name} ${op}", found ${this.describeNext()}; write a mask such as "*"`);
    }
    const mask = this.readString(`<FOR ${name} ${op} ...>`, false).map((n) => (n.kind === 'text' ? n.text : '')).join('');

    this.skipBlanks();
    if (this.src[this.pos] !== '>') this.fail(`expected ">" to close <FOR ${name} ${op} "${mask}">, found ${this.describeNext()}`);
    this.pos++;
    return { type: 'for', name, negate: op === '!=', mask, line };
  }

  private readDef(): Token {
    const line = this.line;
    this.pos += '<DEF'.length;
    this.skipBlanks();
    const name = this.readName();
    if (name === '') this.fail(`missing variable name after "<DEF", found ${this.describeNext()}`);
    this.checkNameLength(name);
    if (isCatalogueMacro(name)) this.fail(`DEF cannot redefine the macro ${name}; choose another name`);

    this.skipBlanks();
    if (this.src[this.pos] !== '=') this.fail(`expected "=" after "<DEF ${name}", found ${this.describeNext()}`);
    this.pos++;
    this.skipBlanks();
    if (this.src[this.pos] !== '"') this.fail(`missing quoted value after "<DEF ${name} =", found ${this.describeNext()}`);
    const value = this.readString(`<DEF ${name} = ...>`, true);

    this.skipBlanks();
    if (!this.src.startsWith('/>', this.pos)) this.fail(`expected "/>" to close <DEF ${name} = "...">, found ${this.describeNext()}`);
    this.pos += 2;
    // Defined only after its own tag, so a first DEF cannot refer to itself.
    this.defined.add(name);
    return { type: 'def', name, value, line };
  }

  /** Reads a double-quoted string; macros are allowed in DEF values and rejected in masks. */
  private readString(context: string, allowMacros: boolean): (TextNode | MacroNode)[] {
    const startLine = this.line;
    const nodes: (TextNode | MacroNode)[] = [];
    let text = '';
    let macroBytes = 0;
    this.pos++;
    for (;;) {
      this.skipJoins();
      const c = this.src[this.pos];
      if (c === undefined || c === '\n') this.fail(`unterminated string in ${context}; close it with " on the same line`, startLine);
      if (c === '"') break;
      if (c === '%' && allowMacros) {
        if (text !== '') nodes.push({ kind: 'text', text });
        text = '';
        const start = this.pos;
        nodes.push(this.readMacroRef());
        macroBytes += this.pos - start;
        continue;
      }
      if (c === '%') this.fail(`macros are not expanded in a FOR mask; write \\% for a literal percent sign`);
      let ch = c;
      if (c === '\\') {
        ch = this.readEscapedChar();
      } else {
        this.checkCharacter(c);
        this.pos++;
      }
      text += ch;
    }
    this.pos++;
    if (text !== '') nodes.push({ kind: 'text', text });
    const bytes = macroBytes + nodes.reduce((sum, n) => sum + (n.kind === 'text' ? Buffer.byteLength(n.text) : 0), 0);
    if (bytes > MAX_VALUE_BYTES) this.fail(`string in ${context} is ${bytes} bytes long; the maximum is ${MAX_VALUE_BYTES}`, startLine);
    return nodes;
  }
}
