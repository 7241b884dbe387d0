/**
 * `mailgw tlv FILE [FILE...]`: the template language verifier. For each file it prints
 * `FILE: template is valid` on stdout, or `FILE:LINE: message` on stderr for the first error.
 * Exit status: 0 when every file is valid, 1 when a file is invalid, 2 for a usage error or an
 * unreadable file (2 wins over 1).
 */
import { checkTemplateFile } from './template-file';

/** The part of a writable stream that runTlv uses, so tests can pass a collector. */
export interface TextOutput {
  write(text: string): unknown;
}

const USAGE = [
  'usage: mailgw tlv FILE [FILE...]',
  '  Checks notification templates (.tmpl) and prints "FILE: template is valid" for each valid one,',
  '  or "FILE:LINE: message" for the first error. Exit status: 0 all valid, 1 a template is invalid,',
  '  2 usage error or unreadable file.',
  '',
].join('\n');

/** Runs the verifier on the arguments after `tlv`; returns the exit status. */
export function runTlv(argv: readonly string[], out: TextOutput, err: TextOutput): number {
  const files: string[] = [];
  let optionsEnded = false;
  for (const arg of argv) {
    if (!optionsEnded && arg === '--') {
      optionsEnded = true;
    } else if (!optionsEnded && (arg === '-h' || arg === '--help')) {
      out.write(USAGE);
      return 0;
    } else if (!optionsEnded && arg.startsWith('-') && arg !== '-') {
      err.write(`mailgw tlv: unknown option ${arg}\n${USAGE}`);
      return 2;
    } else {
      files.push(arg);
    }
  }
  if (files.length === 0) {
    err.write(`mailgw tlv: no template file given\n${USAGE}`);
    return 2;
  }

  let status = 0;
  for (const file of files) {
    try {
      const result = checkTemplateFile(file);
      if (result.ok) {
        out.write(`${file}: template is valid\n`);
      } else {
        err.write(`${result.error.format()}\n`);
        status = Math.max(status, 1);
      }
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      err.write(`mailgw tlv: cannot read ${file}: ${reason}\n`);
      status = 2;
    }
  }
  return status;
}
