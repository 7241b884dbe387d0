import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseTemplate, TemplateError } from '../../src/notify/template';

const HEAD = 'Subject: test\n\n';

/** Parses text that must fail and returns the error. */
function parseError(text: string): TemplateError {
  try {
    parseTemplate(text, 'bad.tmpl');
  } catch (err) {
    assert.ok(err instanceof TemplateError, `expected a TemplateError, got ${String(err)}`);
    return err;
  }
  assert.fail('the template was accepted');
}

/** Each case: template text, expected line, expected message pattern. */
const BODY_ERRORS: [string, string, number, RegExp][] = [
  ['unknown construct', 'line\n<IF SUBJECT>x', 4, /unknown construct "<IF"/],
  ['bare less-than sign', 'a < b', 3, /unknown construct "<"; .*\\< writes a literal/],
  ['lower-case keyword', '<for SUBJECT == "*">x</for>', 3, /unknown construct "<for"/],
  ['stray end tag', 'a\nb\n</FOR>', 5, /unexpected <\/FOR> without an open <FOR/],
  ['unclosed FOR', 'a\n<FOR RECIPIENTS == "*">\nx\n', 4, /<FOR RECIPIENTS \.\.\.> is not closed; add <\/FOR>/],
  ['unclosed inner FOR', '<FOR OBJECT == "*">\n<FOR OBJECT_STATUS == "x">\n</FOR>\n', 3, /<FOR OBJECT \.\.\.> is not closed/],
  ['end tag without >', '<FOR SUBJECT == "*">x</FOR', 3, /expected ">" to close <\/FOR, found the end of the file/],
  ['FOR without name', '<FOR == "*">x</FOR>', 3, /missing macro name after "<FOR"/],
  ['FOR without operator', '<FOR SUBJECT "*">x</FOR>', 3, /missing operator after "<FOR SUBJECT"/],
  ['single equals operator', '<FOR SUBJECT = "*">x</FOR>', 3, /invalid operator "=" in <FOR SUBJECT/],
  ['unsupported operator', '<FOR SUBJECT <> "*">x</FOR>', 3, /invalid operator "<>"/],
  ['unquoted mask', '<FOR SUBJECT == *>x</FOR>', 3, /missing quoted mask after "<FOR SUBJECT =="/],
  ['unterminated mask', 'a\n<FOR SUBJECT == "abc>x</FOR>\n', 4, /unterminated string in <FOR SUBJECT == \.\.\.>/],
  ['FOR tag across lines', '<FOR SUBJECT == "*"\n>x</FOR>', 3, /expected ">" to close <FOR SUBJECT == "\*">, found the end of the line/],
  ['macro in a mask', '<FOR RECIPIENTS == "%POSTMASTER%">x</FOR>', 3, /macros are not expanded in a FOR mask/],
  ['unknown FOR macro', '<FOR NOPE == "*">x</FOR>', 3, /unknown macro NOPE/],
  ['unknown escape', 'ok\n\\n', 4, /unknown escape "\\n"/],
  ['backslash at end of file', 'x\\', 3, /"\\" at the end of the file/],
  ['unknown macro', 'a\n%NO_SUCH_MACRO%', 4, /unknown macro NO_SUCH_MACRO; docs\/templates\.md lists the macros/],
  ['macro in wrong case', '%subject%', 3, /names are case-sensitive: did you mean SUBJECT\?/],
  ['unterminated macro', 'Size: %MESSAGE_SIZE bytes', 3, /macro %MESSAGE_SIZE is not closed with "%", found " "/],
  ['lone percent sign', '100 % sure', 3, /"%" starts a macro but no name follows; write \\% for a literal percent sign/],
  ['empty macro name', '100%% sure', 3, /empty macro name "%%"/],
  ['macro used before its DEF', '%LATER%\n<DEF LATER = "x"/>', 3, /unknown macro LATER/],
  ['DEF referring to itself first', '<DEF SELF = "%SELF%"/>', 3, /unknown macro SELF/],
  ['DEF of a catalogue macro', '<DEF SUBJECT = "x"/>', 3, /DEF cannot redefine the macro SUBJECT/],
  ['DEF of a constant', '<DEF CRLF = "x"/>', 3, /DEF cannot redefine the macro CRLF/],
  ['DEF without =', '<DEF X "x"/>', 3, /expected "=" after "<DEF X"/],
  ['DEF without quotes', '<DEF X = x/>', 3, /missing quoted value after "<DEF X ="/],
  ['DEF without />', '<DEF X = "x">', 3, /expected "\/>" to close <DEF X = "\.\.\.">, found ">"/],
  ['DEF unterminated value', '\n<DEF X = "x/>', 4, /unterminated string in <DEF X = \.\.\.>/],
  ['DEF with unknown macro', '<DEF X = "%NOPE%"/>', 3, /unknown macro NOPE/],
  ['DEF without name', '<DEF = "x"/>', 3, /missing variable name after "<DEF"/],
  ['control character', 'a\n\u0007', 4, /invalid control character U\+0007/],
  ['bare carriage return', 'a\rb', 3, /invalid control character U\+000D/],
];

describe('template errors', () => {
  for (const [name, text, line, message] of BODY_ERRORS) {
    it(`rejects ${name}`, () => {
      const err = parseError(HEAD + text);
      assert.equal(err.file, 'bad.tmpl');
      assert.equal(err.line, line);
      assert.match(err.message, message);
    });
  }

  it('formats as FILE:LINE: message', () => {
    const err = parseError(HEAD + '<BAD>');
    assert.equal(err.format(), 'bad.tmpl:3: unknown construct "<BAD"; the constructs are <FOR ...>, </FOR> and <DEF .../>, and \\< writes a literal "<"');
  });

  it('rejects a name of 65 bytes', () => {
    const name = 'N'.repeat(65);
    const err = parseError(`${HEAD}<DEF ${name} = "x"/>`);
    assert.equal(err.line, 3);
    assert.match(err.message, /name "N{20}\.\.\." is 65 bytes long; the maximum is 64/);
  });

  it('rejects a macro reference of 65 bytes', () => {
    const err = parseError(`${HEAD}\n%${'M'.repeat(65)}%`);
    assert.equal(err.line, 4);
    assert.match(err.message, /is 65 bytes long; the maximum is 64/);
  });

  it('rejects a DEF value over 4096 bytes', () => {
    const err = parseError(`${HEAD}<DEF V = "${'v'.repeat(4097)}"/>`);
    assert.equal(err.line, 3);
    assert.match(err.message, /string in <DEF V = \.\.\.> is 4097 bytes long; the maximum is 4096/);
  });

  it('counts DEF value size in UTF-8 bytes', () => {
    const err = parseError(`${HEAD}<DEF V = "${'é'.repeat(2049)}"/>`);
    assert.match(err.message, /is 4098 bytes long/);
  });

  it('rejects a template over 8 KB at the line of the limit', () => {
    const line = 'x'.repeat(99) + '\n';
    const text = HEAD + line.repeat(82) + 'y'.repeat(200);
    const err = parseError(text);
    assert.equal(Buffer.byteLength(text), 8415);
    // 15 header bytes + 81 full lines of 100 bytes = 8115; the limit falls in the 82nd body line, line 84.
    assert.equal(err.line, 84);
    assert.match(err.message, /template is 8415 bytes long; the maximum is 8192 bytes/);
  });

  it('counts the 8 KB limit in UTF-8 bytes', () => {
    const err = parseError(HEAD + 'ü'.repeat(4090));
    assert.match(err.message, /template is 8195 bytes long/);
  });
});

const HEADER_ERRORS: [string, string, number, RegExp][] = [
  ['an empty template', '', 1, /the template has no header fields/],
  ['a template that starts with an empty line', '\nbody', 1, /the template has no header fields/],
  ['a body without header block', 'Hello,\nyour message was blocked.\n', 1, /expected a header field "Name: value" or the empty line/],
  ['a missing empty line', 'Subject: x\nFrom: a@b\nThe message was blocked.\n', 3, /expected a header field "Name: value"/],
  ['a field name with a space', 'Subject: x\nX Mailer: y\n\n', 2, /invalid header field name "X Mailer"/],
  ['a field without name', ': value\n\n', 1, /header field name is missing before ":"/],
  ['a duplicate Subject', 'Subject: a\nTo: b\nsubject: c\n\n', 3, /duplicate header field subject; it is already on line 1/],
  ['Content-Type', 'Subject: a\nContent-Type: text/html\n\n', 2, /header field Content-Type is written by the renderer/],
  ['Content-Transfer-Encoding', 'Content-Transfer-Encoding: 8bit\n\n', 1, /Content-Transfer-Encoding is written by the renderer/],
  ['a leading continuation line', '  folded\nSubject: x\n\n', 1, /a line that starts with white space continues a header field, but no field comes before it/],
  ['a continuation after a DEF line', 'Subject: a\n<DEF X = "x"/>\n  more\n\n', 3, /continues a header field, but no field comes before it/],
  ['a FOR around header fields', 'Subject: a\n<FOR RECIPIENTS == "*">\nX-Rcpt: %RECIPIENTS%\n</FOR>\n\n', 2, /a FOR cannot enclose header fields/],
  ['a FOR left open in a field', 'Subject: a\nTo: <FOR RECIPIENTS == "*">%RECIPIENTS%\n\n</FOR>', 2, /<FOR RECIPIENTS \.\.\.> in header field To is not closed; close it with <\/FOR> inside the same field/],
  ['a macro before the field name', '%SUBJECT%: x\n\n', 1, /expected a header field "Name: value"/],
  ['an unknown macro in a header', 'Subject: x\nTo: %NOBODY%\n\n', 2, /unknown macro NOBODY/],
];

describe('template header errors', () => {
  for (const [name, text, line, message] of HEADER_ERRORS) {
    it(`rejects ${name}`, () => {
      const err = parseError(text);
      assert.equal(err.line, line);
      assert.match(err.message, message);
    });
  }

  it('allows repeated fields that RFC 5322 allows', () => {
    assert.doesNotThrow(() => parseTemplate('Subject: a\nComments: one\nComments: two\n\n', 't.tmpl'));
  });
});
