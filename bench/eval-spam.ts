// Runs the real anti-spam engine over folders of spam, ham and formal mail and prints, for each
// SpamRateLimit level, the detection rate on spam and the false-positive rate on ham.
//
//   npm run eval:spam -- [--corpus DIR] [--rspamd URL] [--dns IP:PORT] [--json]
//
// DIR has spam/, ham/ and formal/ (default: ../shared/corpus next to the repository). Files are
// single messages; a file whose first line starts with "From " is split as an mbox. The envelope
// comes from the message: the sender from the first Return-Path (`<>` is the null sender), the
// recipients from To and Cc, the client from the newest public relay of the Received chain.
// Without --dns the DNS checks are off (SpamUseDNS=false), since the corpus's senders and links
// cannot be looked up offline. With --rspamd the content check is rspamd's instead of the
// built-in one.

import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'

import { parseConfig } from '../src/config'
import type { PolicySettings, SpamStatus } from '../src/config'
import { Resolver } from '../src/dns/resolver'
import { BuiltinAntiSpamEngine } from '../src/antispam/engine'
import { parseHop } from '../src/antispam/received'
import { isUnlistedAddress } from '../src/access/dnsbl'
import type { MessageContext } from '../src/pipeline/engines'

const LEVELS = ['minimum', 'standard', 'high', 'maximum'] as const
const FOLDERS = ['spam', 'ham', 'formal'] as const
/** Messages of the formal folder that are ordinary mail on purpose (negative controls). */
const FORMAL_CONTROLS = new Set(['is-not-bounce-01.eml', 'is-not-bounce-02.eml'])

interface Options {
  corpus: string
  rspamd: string | null
  dns: string | null
  json: boolean
}

function parseArgs(argv: string[]): Options {
  const options: Options = { corpus: path.resolve(__dirname, '..', '..', '..', 'shared', 'corpus'), rspamd: null, dns: null, json: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => {
      const next = argv[++i]
      if (next === undefined) throw new Error(`${arg} needs a value`)
      return next
    }
    if (arg === '--corpus') options.corpus = path.resolve(value())
    else if (arg === '--rspamd') options.rspamd = value()
    else if (arg === '--dns') options.dns = value()
    else if (arg === '--json') options.json = true
    else throw new Error(`unknown option ${arg}; use --corpus DIR, --rspamd URL, --dns IP:PORT or --json`)
  }
  return options
}

interface Sample {
  folder: (typeof FOLDERS)[number]
  name: string
  raw: Buffer
}

function readSamples(corpus: string): Sample[] {
  const samples: Sample[] = []
  for (const folder of FOLDERS) {
    const dir = path.join(corpus, folder)
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name)
      if (!statSync(file).isFile() || name.endsWith('.md')) continue
      const raw = readFileSync(file)
      const messages = raw.subarray(0, 5).toString() === 'From ' ? splitMbox(raw) : [raw]
      messages.forEach((message, index) => samples.push({ folder, name: messages.length > 1 ? `${name}#${index + 1}` : name, raw: message }))
    }
  }
  return samples
}

function splitMbox(raw: Buffer): Buffer[] {
  return raw
    .toString('latin1')
    .split(/^From .*\r?\n/m)
    .filter((text) => text.trim() !== '')
    .map((text) => Buffer.from(text.replace(/^>From /gm, 'From '), 'latin1'))
}

function envelopeOf(raw: Buffer, index: number): MessageContext {
  const head = raw.toString('latin1').split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]/g, ' ')
  const field = (name: string) => [...head.matchAll(new RegExp(`^${name}:(.*)$`, 'gim'))].map((m) => m[1].trim())
  const returnPath = field('Return-Path')[0]
  const mailFrom = returnPath === undefined ? (/<?([^\s<>]+@[^\s<>]+)>?/.exec(field('From')[0] ?? '')?.[1] ?? '') : returnPath.replace(/[<>]/g, '').trim()
  const recipients = [...field('To'), ...field('Cc')].join(',').match(/[^\s<>,;"]+@[^\s<>,;"]+/g) ?? ['postmaster@example.com']
  const relay = field('Received').map(parseHop).find((hop) => hop.ip && !isUnlistedAddress(hop.ip))
  return { transactionId: `eval${index}`, mailFrom, recipients, clientIp: relay?.ip ?? '192.0.2.1', clientHost: null, helo: null }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const dnsLine = options.dns ? `[mailgw.resolve]\nNameserver=${options.dns}\n` : ''
  const conf = `[mailgw.network]\nHostname=eval.localhost\nPostmaster=postmaster@localhost\nProtectedDomains=*\n${dnsLine}[mailgw.policy]\nSpamUseDNS=${options.dns ? 'true' : 'false'}\n`
  const parsed = parseConfig(conf, path.join(process.cwd(), 'eval.conf'))
  if (!parsed.config) throw new Error(`built-in evaluation config is invalid: ${parsed.errors.map((e) => e.message).join('; ')}`)
  const config = parsed.config

  const resolver = new Resolver({ servers: config.resolve.Nameserver, networkTimeout: 2, resolveTimeout: 4, cacheMaxTtl: 600 })
  const engine = new BuiltinAntiSpamEngine({
    dns: { resolver, dnsblZones: config.access.DNSBlackList, uriZones: config.antispam.UriBlackList, spfTimeoutMs: 4000 },
    rspamd: options.rspamd ? { url: options.rspamd, timeoutMs: 30000 } : null,
  })

  const samples = readSamples(options.corpus)
  const results: { sample: Sample; level: string; status: SpamStatus | null; rate: number; signs: readonly string[] }[] = []
  for (const [index, sample] of samples.entries()) {
    const context = envelopeOf(sample.raw, index)
    for (const level of LEVELS) {
      const settings: PolicySettings = { ...config.policy, SpamRateLimit: level }
      const verdict = await engine.check(sample.raw, context, settings)
      results.push({ sample, level, status: verdict.status, rate: verdict.rate, signs: verdict.signs ?? [] })
    }
  }

  if (options.json) {
    console.log(JSON.stringify(results.map((r) => ({ folder: r.sample.folder, name: r.sample.name, level: r.level, status: r.status, rate: r.rate, signs: r.signs })), null, 2))
    return
  }
  printSummary(results, options)
}

function printSummary(results: { sample: Sample; level: string; status: SpamStatus | null; rate: number; signs: readonly string[] }[], options: Options): void {
  const pct = (n: number, d: number) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(0)}% (${n}/${d})`)
  console.log(`corpus ${options.corpus}; content: ${options.rspamd ? `rspamd ${options.rspamd}` : 'built-in'}; DNS checks: ${options.dns ? options.dns : 'off'}`)
  console.log('level     spam detected   spam+probable   ham as spam   ham as spam/probable   formal as formal')
  for (const level of LEVELS) {
    const at = results.filter((r) => r.level === level)
    const spam = at.filter((r) => r.sample.folder === 'spam')
    const ham = at.filter((r) => r.sample.folder === 'ham')
    const formal = at.filter((r) => r.sample.folder === 'formal' && !FORMAL_CONTROLS.has(r.sample.name))
    const columns = [
      pct(spam.filter((r) => r.status === 'as/spam').length, spam.length),
      pct(spam.filter((r) => r.status === 'as/spam' || r.status === 'as/probable').length, spam.length),
      pct(ham.filter((r) => r.status === 'as/spam').length, ham.length),
      pct(ham.filter((r) => r.status === 'as/spam' || r.status === 'as/probable').length, ham.length),
      pct(formal.filter((r) => r.status === 'as/formal').length, formal.length),
    ]
    console.log(`${level.padEnd(10)}${columns.map((c, i) => c.padEnd([16, 16, 14, 23, 0][i])).join('')}`)
  }
  const controls = results.filter((r) => r.level === 'standard' && FORMAL_CONTROLS.has(r.sample.name))
  console.log(`formal-folder controls (ordinary mail) at standard: ${controls.map((r) => `${r.sample.name}=${r.status ?? 'not_detected'}`).join(', ')}`)
  console.log('\nper message at standard (status, score, signs):')
  for (const r of results.filter((x) => x.level === 'standard')) {
    console.log(`  ${r.sample.folder}/${r.sample.name}: ${r.status ?? 'not_detected'} ${r.rate} ${r.signs.join(',')}`)
  }
}

main().catch((err: unknown) => {
  console.error(`eval-spam: ${(err as Error).message}`)
  process.exit(1)
})
