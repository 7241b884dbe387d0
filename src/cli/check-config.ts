// `mailgw check-config [-c FILE]` (also -k, --check-config): silent with exit 0 for a valid file;
// every error as FILE:LINE: message and exit 1 otherwise, in the manner of `nginx -t` and
// `postfix check`, so scripts can run it before a reload.

import { formatConfigError, loadConfig } from '../config'
import { parseArgs, UsageError } from './args'
import type { Io } from './main'
import { defaultConfigFile } from './paths'

export async function runCheckConfig(args: string[], io: Io): Promise<number> {
  let file: string
  try {
    const parsed = parseArgs(args)
    if (parsed.positional.length > 1) throw new UsageError('check-config takes one configuration file')
    file = parsed.config ?? parsed.positional[0] ?? defaultConfigFile()
  } catch (err) {
    io.err(`mailgw check-config: ${(err as Error).message}`)
    return 2
  }

  const { errors } = loadConfig(file)
  for (const e of errors) io.err(formatConfigError(e))
  return errors.length === 0 ? 0 : 1
}
