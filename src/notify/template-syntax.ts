/**
 * Parsed form of a notification template, its limits and its error type. The parser
 * (template-parse.ts) builds these trees once; the renderer only walks them, so a substituted value
 * is never read as template syntax.
 */

/** Maximum size of a template file in bytes. */
export const MAX_TEMPLATE_BYTES = 8192;
/** Maximum length of a macro or variable name in bytes. */
export const MAX_NAME_BYTES = 64;
/** Maximum size of a value in bytes: DEF values and masks in the file, and each value at render time. */
export const MAX_VALUE_BYTES = 4096;

/** Literal text; in the body it may contain line breaks (LF). */
export interface TextNode {
  readonly kind: 'text';
  readonly text: string;
}

/** A `%NAME%` reference. */
export interface MacroNode {
  readonly kind: 'macro';
  readonly name: string;
  readonly line: number;
}

/** `<FOR NAME == "MASK">body</FOR>`, or `!=` when `negate` is set. */
export interface ForNode {
  readonly kind: 'for';
  readonly name: string;
  readonly negate: boolean;
  readonly mask: string;
  readonly body: readonly TemplateNode[];
  readonly line: number;
}

/** `<DEF NAME = "value"/>`; the value may reference macros but contains no constructs. */
export interface DefNode {
  readonly kind: 'def';
  readonly name: string;
  readonly value: readonly (TextNode | MacroNode)[];
  readonly line: number;
}

export type TemplateNode = TextNode | MacroNode | ForNode | DefNode;

/** One header field of the template; the name is literal, the value a sequence of nodes. */
export interface HeaderFieldTemplate {
  readonly kind: 'field';
  readonly name: string;
  readonly value: readonly TemplateNode[];
  readonly line: number;
}

/** A parsed template: header fields (and DEFs placed among them) in file order, then the body. */
export interface Template {
  readonly file: string;
  readonly headers: readonly (HeaderFieldTemplate | DefNode)[];
  readonly body: readonly TemplateNode[];
}

/** The first error found in a template file, with its 1-based line. */
export class TemplateError extends Error {
  readonly file: string;
  readonly line: number;

  constructor(file: string, line: number, message: string) {
    super(message);
    this.name = 'TemplateError';
    this.file = file;
    this.line = line;
  }

  /** Formats the error as `FILE:LINE: message`, the form `mailgw tlv` prints. */
  format(): string {
    return `${this.file}:${this.line}: ${this.message}`;
  }
}
