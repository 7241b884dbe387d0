// Option parsing shared by the subcommands: `-c FILE`, `-c=FILE`, `--config FILE`,
// `--config=FILE`, plus any named flags a command declares.

export interface ParsedArgs {
  config?: string
  flags: Map<string, string | true>
  positional: string[]
}

export class UsageError extends Error {}

export function parseArgs(args: string[], valueFlags: readonly string[] = [], boolFlags: readonly string[] = []): ParsedArgs {
  const result: ParsedArgs = { flags: new Map(), positional: [] }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const eq = arg.indexOf('=')
    const name = arg.startsWith('-') && eq > 0 ? arg.slice(0, eq) : arg
    const inline = arg.startsWith('-') && eq > 0 ? arg.slice(eq + 1) : undefined

    const takeValue = (): string => {
      if (inline !== undefined) return inline
      const value = args[++i]
      if (value === undefined) throw new UsageError(`option ${name} requires a value`)
      return value
    }

    if (name === '-c' || name === '--config') result.config = takeValue()
    else if (valueFlags.includes(name)) result.flags.set(name, takeValue())
    else if (boolFlags.includes(name)) result.flags.set(name, true)
    else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`)
    else result.positional.push(arg)
  }
  return result
}
