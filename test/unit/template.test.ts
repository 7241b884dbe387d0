import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseTemplate, renderTemplateParts, type TemplateData, type TemplateObject } from '../../src/notify/template';

const HEAD = 'Subject: test\n\n';

/** Renders a template body (after a one-field header block) and returns it with LF line breaks. */
function body(text: string, data: Partial<TemplateData> = {}): string {
  const template = parseTemplate(HEAD + text, 'test.tmpl');
  const parts = renderTemplateParts(template, { message: {}, ...data });
  return parts.body.replace(/\r\n/g, '\n');
}

const OBJECTS: TemplateObject[] = [
  { name: 'invoice.exe', type: 'application/octet-stream', size: 1200, status: 'infected', virus: 'Eicar-Test', action: 'remove' },
  { name: 'notes.txt', type: 'text/plain', size: 30, status: 'clean', action: 'pass' },
  { name: 'secret.zip', type: 'application/zip', size: 900, status: 'protected', virus: 'Heuristics.Encrypted.Zip', action: 'placeholder' },
];

describe('template macros', () => {
  it('prints a single value', () => {
    assert.equal(body('From %SENDER_ADDR%.', { message: { SENDER_ADDR: 'a@example.org' } }), 'From a@example.org.');
  });

  it('prints the last value of a multi-valued macro', () => {
    assert.equal(body('%RECIPIENTS%', { message: { RECIPIENTS: ['b@example.org', 'c@example.org'] } }), 'c@example.org');
  });

  it('prints a macro without value as empty', () => {
    assert.equal(body('[%SUBJECT%]'), '[]');
  });

  it('prints the last object outside a loop', () => {
    assert.equal(body('%OBJECT_NAME% %OBJECT_STATUS%', { objects: OBJECTS }), 'secret.zip protected');
  });

  it('prints the counts', () => {
    assert.equal(body('%OBJECT_COUNT%/%FAILED_RCPT_COUNT%', { objects: OBJECTS }), '3/0');
  });

  it('prints CRLF and TAB', () => {
    assert.equal(body('a%CRLF%b%TAB%c'), 'a\nb\tc');
  });

  it('substitutes values without parsing them', () => {
    const subject = '%SENDER_ADDR% <FOR RECIPIENTS == "*">x</FOR> \\% # not a comment';
    assert.equal(body('%SUBJECT%', { message: { SUBJECT: subject, SENDER_ADDR: 'a@b' } }), subject);
  });
});

describe('template FOR', () => {
  const recipients = { message: { RECIPIENTS: ['bob@example.org', 'carol@example.net', 'Dave@EXAMPLE.org'] } };

  it('iterates over every value with == "*"', () => {
    assert.equal(body('<FOR RECIPIENTS == "*">[%RECIPIENTS%]</FOR>', recipients), '[bob@example.org][carol@example.net][Dave@EXAMPLE.org]');
  });

  it('selects values with a * mask, ignoring case', () => {
    assert.equal(body('<FOR RECIPIENTS == "*@example.org">[%RECIPIENTS%]</FOR>', recipients), '[bob@example.org][Dave@EXAMPLE.org]');
  });

  it('matches one character with ?', () => {
    assert.equal(body('<FOR RECIPIENTS == "???@*">[%RECIPIENTS%]</FOR>', recipients), '[bob@example.org]');
  });

  it('excludes matching values with !=', () => {
    assert.equal(body('<FOR RECIPIENTS != "*@example.org">[%RECIPIENTS%]</FOR>', recipients), '[carol@example.net]');
  });

  it('matches a mask literally apart from * and ?', () => {
    const data = { message: { RECIPIENTS: ['a.b@x', 'aXb@x', 'a(b)@x'] } };
    assert.equal(body('<FOR RECIPIENTS == "a.b@x">[%RECIPIENTS%]</FOR>', data), '[a.b@x]');
    assert.equal(body('<FOR RECIPIENTS == "a(b)@*">[%RECIPIENTS%]</FOR>', data), '[a(b)@x]');
  });

  it('renders nothing for a macro without values', () => {
    assert.equal(body('<FOR RECIPIENTS == "*">x</FOR>end'), 'end');
  });

  it('works as a condition on a single value', () => {
    const text = '<FOR QUARANTINE_ID != "">id %QUARANTINE_ID%</FOR>.';
    assert.equal(body(text, { message: { QUARANTINE_ID: 'abc12345' } }), 'id abc12345.');
    assert.equal(body(text, { message: { QUARANTINE_ID: '' } }), '.');
    assert.equal(body(text), '.');
  });

  it('binds the child macros of an object', () => {
    const text = '<FOR OBJECT == "*">%OBJECT_NAME%=%OBJECT_STATUS%/%OBJECT_ACTION%;</FOR>';
    assert.equal(body(text, { objects: OBJECTS }), 'invoice.exe=infected/remove;notes.txt=clean/pass;secret.zip=protected/placeholder;');
  });

  it('binds the siblings when iterating a child macro', () => {
    const text = '<FOR OBJECT_STATUS != "clean">%OBJECT_NAME% (%OBJECT_VIRUS%);</FOR>';
    assert.equal(body(text, { objects: OBJECTS }), 'invoice.exe (Eicar-Test);secret.zip (Heuristics.Encrypted.Zip);');
  });

  it('matches object names with a mask', () => {
    assert.equal(body('<FOR OBJECT == "*.EXE">%OBJECT_SIZE%</FOR>', { objects: OBJECTS }), '1200');
  });

  it('nests loops over different macros', () => {
    const text = '<FOR OBJECT == "*.*"><FOR RECIPIENTS == "*">%OBJECT%>%RECIPIENTS% </FOR></FOR>';
    const data = { objects: OBJECTS.slice(0, 2), message: { RECIPIENTS: ['a@x', 'b@x'] } };
    assert.equal(body(text, data), 'invoice.exe>a@x invoice.exe>b@x notes.txt>a@x notes.txt>b@x ');
  });

  it('nests a condition on the bound object', () => {
    const text = '<FOR OBJECT == "*">%OBJECT%<FOR OBJECT_VIRUS != ""> [%OBJECT_VIRUS%]</FOR>;</FOR>';
    assert.equal(body(text, { objects: OBJECTS }), 'invoice.exe [Eicar-Test];notes.txt;secret.zip [Heuristics.Encrypted.Zip];');
  });

  it('iterates failed recipients with their fields', () => {
    const data: Partial<TemplateData> = {
      failedRecipients: [
        { address: 'x@example.com', status: '5.1.1', reason: 'User unknown', remoteHost: 'mx.example.com' },
        { address: 'y@example.com', status: '5.4.4', reason: 'No MX' },
      ],
    };
    const text = '<FOR FAILED_RCPT == "*">%FAILED_RCPT% %FAILED_RCPT_STATUS% %FAILED_RCPT_REASON% [%FAILED_RCPT_HOST%]\n</FOR>';
    assert.equal(body(text, data), 'x@example.com 5.1.1 User unknown [mx.example.com]\ny@example.com 5.4.4 No MX []\n');
  });

  it('accepts free white space inside tags', () => {
    const data = { message: { RECIPIENTS: ['a@x'] } };
    assert.equal(body('<FOR\tRECIPIENTS==  "*" >%RECIPIENTS%</FOR >', data), 'a@x');
  });

  it('reads escapes inside a mask', () => {
    const data = { message: { SUBJECT: 'say "hi" \\o/' } };
    assert.equal(body('<FOR SUBJECT == "say \\"hi\\" \\\\o\\/">yes</FOR>', data), 'yes');
  });

  it('drops lines that hold only tags', () => {
    const text = 'Objects:\n<FOR OBJECT == "*">\n  - %OBJECT%\n</FOR>\nend\n';
    assert.equal(body(text, { objects: OBJECTS.slice(0, 2) }), 'Objects:\n  - invoice.exe\n  - notes.txt\nend\n');
  });
});

describe('template DEF', () => {
  it('defines a variable for later use', () => {
    assert.equal(body('<DEF LABEL = "Virus alert"/>%LABEL%: %LABEL%'), 'Virus alert: Virus alert');
  });

  it('expands macros in the value where it is defined', () => {
    const text = '<DEF WHO = "%SENDER_ADDR% via %CLIENT_ADDR%"/>[%WHO%]';
    assert.equal(body(text, { message: { SENDER_ADDR: 'a@x', CLIENT_ADDR: '192.0.2.1' } }), '[a@x via 192.0.2.1]');
  });

  it('accumulates values when redefined in a loop', () => {
    const text = '<DEF NAMES = ""/>\n<FOR OBJECT == "*">\n<DEF NAMES = "%NAMES% %OBJECT%"/>\n</FOR>\n[%NAMES%]';
    assert.equal(body(text, { objects: OBJECTS }), '[ invoice.exe notes.txt secret.zip]');
  });

  it('works as a FOR condition', () => {
    assert.equal(body('<DEF MODE = "strict"/><FOR MODE == "str*">on</FOR>'), 'on');
  });

  it('accepts DEF lines in the header block', () => {
    const template = parseTemplate('<DEF TAG = "[gw]"/>\nSubject: %TAG% %SUBJECT%\n\nbody', 't.tmpl');
    const parts = renderTemplateParts(template, { message: { SUBJECT: 'hello' } });
    assert.deepEqual(parts.headers, [{ name: 'Subject', value: '[gw] hello' }]);
  });
});

describe('template lexical rules', () => {
  it('reads every escape', () => {
    assert.equal(body('\\\\ \\% \\/ \\< \\> \\# \\"'), '\\ % / < > # "');
  });

  it('removes comments to the end of line', () => {
    assert.equal(body('text # a comment\nnext'), 'text\nnext');
  });

  it('removes a comment line entirely', () => {
    assert.equal(body('one\n# a comment line\n   # indented comment\ntwo'), 'one\ntwo');
  });

  it('joins a line ending with a backslash', () => {
    assert.equal(body('one \\\ntwo\nthree'), 'one two\nthree');
  });

  it('joins lines inside a tag', () => {
    const data = { message: { RECIPIENTS: ['a@x'] } };
    assert.equal(body('<FOR RECIPIENTS \\\n== "*">%RECIPIENTS%</FOR>', data), 'a@x');
  });

  it('keeps blank lines and white space of the body', () => {
    assert.equal(body('a\n\n  b  \n'), 'a\n\n  b  \n');
  });

  it('accepts CRLF line breaks in the file', () => {
    const template = parseTemplate('Subject: x\r\n\r\n<FOR RECIPIENTS == "*">\r\n%RECIPIENTS%\r\n</FOR>\r\n', 't.tmpl');
    const parts = renderTemplateParts(template, { message: { RECIPIENTS: ['a@x', 'b@x'] } });
    assert.equal(parts.body, 'a@x\r\nb@x\r\n');
  });

  it('accepts a header block without body', () => {
    const template = parseTemplate('Subject: only headers\n', 't.tmpl');
    assert.equal(template.body.length, 0);
    assert.equal(template.headers.length, 1);
  });

  it('joins folded header lines', () => {
    const template = parseTemplate('Subject: first\n  second\n\n', 't.tmpl');
    const parts = renderTemplateParts(template, { message: {} });
    assert.deepEqual(parts.headers, [{ name: 'Subject', value: 'first  second' }]);
  });

  it('continues a header field after a comment line', () => {
    const template = parseTemplate('Subject: first\n# note\n  second\n\n', 't.tmpl');
    const parts = renderTemplateParts(template, { message: {} });
    assert.deepEqual(parts.headers, [{ name: 'Subject', value: 'first  second' }]);
  });

  it('accepts a name of 64 bytes', () => {
    const name = 'N'.repeat(64);
    assert.equal(body(`<DEF ${name} = "ok"/>%${name}%`), 'ok');
  });

  it('accepts a template of exactly 8 KB', () => {
    const filler = 'x'.repeat(8192 - HEAD.length);
    assert.equal(body(filler), filler);
  });

  it('accepts a DEF value of 4096 bytes', () => {
    const value = 'v'.repeat(4096);
    assert.equal(body(`<DEF V = "${value}"/>%V%`), value);
  });
});
