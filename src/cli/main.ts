// The `mailgw` command line: one subcommand per administrator task. Each subcommand returns its
// exit code instead of calling process.exit, so tests can run it in process.

import { readFileSync } from 'node:fs'
import path from 'node:path'
import { runCheckConfig } from './check-config'
import { runExplain } from './explain'
import { runStart } from './start'
import { runHarakaConfig } from './haraka-config'
import { runMaila } from './maila'
import { packageRoot } from './paths'
import { runTlv } from '../notify/template'
import { renderDefaultConfig } from '../config'

export interface Io {
  out: (line: string) => void
  err: (line: string) => void
}

const consoleIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}

type Command = (args: string[], io: Io) => Promise<number>

const commands: Record<string, { run: Command; help: string }> = {
  start: { run: runStart, help: 'check the config, then run the gateway in the foreground' },
  'check-config': { run: runCheckConfig, help: 'validate mailgw.conf; print nothing and exit 0 when valid' },
  explain: { run: runExplain, help: 'show the group of each recipient and the rules of each copy for a sender and client' },
  'haraka-config': { run: runHarakaConfig, help: 'write the Haraka instance files derived from mailgw.conf' },
  'default-config': {
    run: async (_args, io) => {
      io.out(renderDefaultConfig().replace(/\n$/, ''))
      return 0
    },
    help: 'print a mailgw.conf with every key at its default, commented',
  },
  maila: { run: (args, io) => runMaila(args, io), help: 'list, show, send and remove quarantined and archived messages' },
  tlv: {
    run: async (args, io) => runTlv(args, { write: (s: string) => io.out(s.replace(/\n$/, '')) }, { write: (s: string) => io.err(s.replace(/\n$/, '')) }),
    help: 'check notification templates; FILE:LINE: message for the first error',
  },
}

const aliases: Record<string, string> = { '-k': 'check-config', '--check-config': 'check-config' }

export function usage(): string {
  const lines = ['usage: mailgw <command> [options]', '', 'commands:']
  for (const [name, { help }] of Object.entries(commands)) lines.push(`  ${name.padEnd(16)}${help}`)
  lines.push('', 'Most commands take -c FILE (default: config/mailgw.conf of this package).')
  return lines.join('\n')
}

export async function main(argv: string[], io: Io = consoleIo): Promise<number> {
  const [first, ...rest] = argv
  if (!first || first === '-h' || first === '--help' || first === 'help') {
    io.out(usage())
    return first ? 0 : 1
  }
  if (first === '--version' || first === '-V') {
    io.out(JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version)
    return 0
  }

  const name = aliases[first] ?? first
  const command = commands[name]
  if (!command) {
    io.err(`mailgw: unknown command "${first}"`)
    io.err(usage())
    return 1
  }
  return command.run(rest, io)
}
