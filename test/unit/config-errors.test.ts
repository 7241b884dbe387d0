import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

import { formatConfigError, loadConfig, parseConfig } from '../../src/config'

const FILE = 'config/mailgw.conf'
const NETWORK = '[mailgw.network]\nHostname=mail.example.com\nPostmaster=postmaster@example.com\n'

/** Returns the formatted errors of a file made of the minimal network section, a policy and body. */
function errorsOf(body: string): string[] {
  const result = parseConfig(`${NETWORK}[mailgw.policy]\n${body}`, FILE)
  if (result.errors.length > 0) assert.equal(result.config, null)
  return result.errors.map(formatConfigError)
}

/** Line number of the first body line: the network section and policy header take four lines. */
const L = 5

describe('config errors', () => {
  it('out-of-range integer', () => {
    assert.deepEqual(errorsOf('[mailgw.limits]\nMaximalIncomingHops=abc\nMaximalIncomingHops=500\n'), [
      `${FILE}:${L + 1}: invalid value "abc" for MaximalIncomingHops in [mailgw.limits]: expected an integer from 1 to 100`,
      `${FILE}:${L + 2}: duplicate key MaximalIncomingHops in [mailgw.limits] (first set on line ${L + 1}): MaximalIncomingHops may appear only once`,
    ])
    assert.deepEqual(errorsOf('[mailgw.limits]\nMaximalIncomingHops=500\n'), [
      `${FILE}:${L + 1}: invalid value "500" for MaximalIncomingHops in [mailgw.limits]: expected an integer from 1 to 100`,
    ])
  })

  it('unknown key with a hint', () => {
    assert.deepEqual(errorsOf('Check AV=true\nFooBar=1\n'), [
      `${FILE}:${L}: unknown key "Check AV" in [mailgw.policy]: did you mean CheckAV?`,
      `${FILE}:${L + 1}: unknown key "FooBar" in [mailgw.policy]: see docs/config-reference.md for the keys of this section`,
    ])
  })

  it('group-only keys are unknown in the policy', () => {
    assert.match(errorsOf('Senders=*@x.example\n')[0], /^config\/mailgw\.conf:5: unknown key "Senders" in \[mailgw\.policy\]/)
  })

  it('unknown section skips its keys', () => {
    const errors = errorsOf('[mailgw.limit]\nMaximalIncomingHops=7\nAnything=1\n')
    assert.equal(errors.length, 1)
    assert.match(errors[0], /^config\/mailgw\.conf:5: unknown section \[mailgw\.limit\]: expected \[mailgw\.X\]/)
  })

  it('bad boolean', () => {
    assert.deepEqual(errorsOf('CheckAV=maybe\n'), [
      `${FILE}:${L}: invalid value "maybe" for CheckAV in [mailgw.policy]: expected true or false (also yes/no, y/n, on/off, 1/0)`,
    ])
  })

  it('bad host:port', () => {
    assert.deepEqual(errorsOf('[mailgw.network]\nListenOn=127.0.0.1\nListenOn=127.0.0.1:99999\nListenOn=::1:25\n[mailgw.local]\nMailbox=localhost:25\n'), [
      `${FILE}:${L + 1}: invalid value "127.0.0.1" for ListenOn in [mailgw.network]: expected IP:PORT, e.g. 127.0.0.1:25 or [::1]:25`,
      `${FILE}:${L + 2}: invalid value "127.0.0.1:99999" for ListenOn in [mailgw.network]: expected IP:PORT, e.g. 127.0.0.1:25 or [::1]:25`,
      `${FILE}:${L + 3}: invalid value "::1:25" for ListenOn in [mailgw.network]: expected IP:PORT, e.g. 127.0.0.1:25 or [::1]:25`,
      `${FILE}:${L + 5}: invalid value "localhost:25" for Mailbox in [mailgw.local]: expected IP:PORT, e.g. 127.0.0.1:25 or [::1]:25`,
    ])
  })

  it('bad ForwardRoute', () => {
    const errors = errorsOf('[mailgw.forward]\nForwardRoute=*@example.com\nForwardRoute=* [host:0]\nForwardRoute=* [host\nForwardRoute=a@b@c [h]\n')
    assert.deepEqual(
      errors.map((e) => e.split(': invalid value')[0]),
      [`${FILE}:${L + 1}`, `${FILE}:${L + 2}`, `${FILE}:${L + 3}`, `${FILE}:${L + 4}`],
    )
    assert.equal(
      errors[0],
      `${FILE}:${L + 1}: invalid value "*@example.com" for ForwardRoute in [mailgw.forward]: ` +
        'expected MASK DOMAIN, MASK [HOST] or MASK [HOST:PORT], e.g. *@example.com [127.0.0.1:2526]',
    )
  })

  it('duplicate non-repeatable key', () => {
    assert.deepEqual(errorsOf('CheckAV=true\ncheckav=false\n'), [
      `${FILE}:${L + 1}: duplicate key CheckAV in [mailgw.policy] (first set on line ${L}): CheckAV may appear only once`,
    ])
  })

  it('missing required key at the header', () => {
    const result = parseConfig('# comment\n[smtpgw.network]\nHostname=mail.example.com\n[mailgw.policy]\n', FILE)
    assert.deepEqual(result.errors.map(formatConfigError), [`${FILE}:2: missing required key Postmaster in [smtpgw.network]`])
  })

  it('missing sections at line 1', () => {
    const result = parseConfig('[mailgw.limits]\nMaximalIncomingHops=7\n', FILE)
    assert.deepEqual(result.errors.map(formatConfigError), [
      `${FILE}:1: missing section [mailgw.network] with required key Hostname`,
      `${FILE}:1: missing section [mailgw.network] with required key Postmaster`,
      `${FILE}:1: missing section [mailgw.policy]: it is mandatory, even empty, because groups inherit from it`,
    ])
  })

  it('empty value of a single key', () => {
    assert.deepEqual(errorsOf('[mailgw.options]\nWorkers=\n'), [
      `${FILE}:${L + 1}: empty value for Workers in [mailgw.options]: set a value or remove the line`,
    ])
  })

  it('malformed lines and headers', () => {
    const result = parseConfig(`Key=before\n${NETWORK}[mailgw.policy\nCheckAV=oops\n[mailgw.policy]\njust words\n`, FILE)
    assert.deepEqual(result.errors.map(formatConfigError), [
      `${FILE}:1: key "Key" is outside any section: put it below a [section] header`,
      `${FILE}:5: invalid section header "[mailgw.policy": expected [NAME]`,
      `${FILE}:8: invalid line "just words": expected Key=value, a [section] header or a # comment`,
    ])
  })

  it('backoff order at the later line', () => {
    assert.deepEqual(errorsOf('[mailgw.timeouts]\nMaximalBackoffTime=60\nMinimalBackoffTime=2m\n'), [
      `${FILE}:${L + 2}: MinimalBackoffTime (120 s) is greater than MaximalBackoffTime (60 s) in [mailgw.timeouts]: ` +
        'lower MinimalBackoffTime or raise MaximalBackoffTime',
    ])
  })

  it('backoff against a default', () => {
    assert.match(errorsOf('[mailgw.timeouts]\nMinimalBackoffTime=7h\n')[0], /^config\/mailgw\.conf:6: MinimalBackoffTime \(25200 s\) is greater/)
  })

  it('duration out of range', () => {
    assert.deepEqual(errorsOf('[mailgw.timeouts]\nMaximalQueueLifetime=5s\nMinimalBackoffTime=1x\n'), [
      `${FILE}:${L + 1}: invalid value "5s" for MaximalQueueLifetime in [mailgw.timeouts]: ` +
        'expected a duration from 10s to 14d: a plain number counts days, or add s, m, h or d',
      `${FILE}:${L + 2}: invalid value "1x" for MinimalBackoffTime in [mailgw.timeouts]: ` +
        'expected a duration from 5s to 18h: a plain number counts seconds, or add s, m, h or d',
    ])
  })

  it('size out of range', () => {
    assert.deepEqual(errorsOf('[mailgw.limits]\nMaximalIncomingMessageSize=10\n'), [
      `${FILE}:${L + 1}: invalid value "10" for MaximalIncomingMessageSize in [mailgw.limits]: ` +
        'expected a size from 64 to 204800 KB: a plain number counts KB, or add K, M or G',
    ])
  })

  it('bad statuses name the token', () => {
    assert.deepEqual(errorsOf('BlockMessage=av/infected, av/wrong\nMarkSubject=spam,ham\nActionInfected=cure\n'), [
      `${FILE}:${L}: invalid value "av/wrong" for BlockMessage in [mailgw.policy]: ` +
        'expected a comma list of statuses such as av/infected, as/spam, av/all, as/all or none',
      `${FILE}:${L + 1}: invalid value "ham" for MarkSubject in [mailgw.policy]: expected a comma list of spam, probable, formal, blacklisted, all or none`,
      `${FILE}:${L + 2}: invalid value "cure" for ActionInfected in [mailgw.policy]: expected one of pass, remove, placeholder`,
    ])
  })

  it('group without selectors', () => {
    assert.deepEqual(errorsOf('[mailgw.group:g]\nCheckAV=false\n'), [
      `${FILE}:${L}: group [mailgw.group:g] sets neither Senders nor Recipients: set at least one (a missing key means *@*)`,
    ])
  })

  it('duplicate group and unknown network', () => {
    assert.deepEqual(errorsOf('[mailgw.group:g]\nSenders=network Nowhere\n[mailgw.group:G]\nRecipients=*\n'), [
      `${FILE}:${L + 2}: duplicate group [mailgw.group:G] (first defined on line ${L}): give each group its own name`,
      `${FILE}:${L + 1}: unknown network "Nowhere" in Senders of [mailgw.group:g]: define it with Network=Nowhere ADDRESS/BITS in [mailgw.network]`,
    ])
  })

  it('bad sender kinds', () => {
    const errors = errorsOf('[mailgw.group:g]\nSenders=ip 300.1.1.1\nSenders=ip 10.0.0.0/255.0.255.0\nSenders=a b c\n')
    assert.equal(errors.length, 3)
    assert.match(errors[0], /:6: invalid value "ip 300\.1\.1\.1" for Senders in \[mailgw\.group:g\]: expected ip ADDRESS/)
    assert.match(errors[1], /:7: invalid value "ip 10\.0\.0\.0\/255\.0\.255\.0"/)
    assert.match(errors[2], /:8: invalid value "a b c" for Senders/)
  })

  it('SpamDetection and SpamRateLimit together', () => {
    assert.deepEqual(errorsOf('SpamRateLimit=high\nSpamDetection=soft\n'), [
      `${FILE}:${L + 1}: both SpamRateLimit and SpamDetection are set in [mailgw.policy]: keep SpamRateLimit only`,
    ])
  })

  it('file: on a single-value key', () => {
    assert.deepEqual(errorsOf('SubjectLabelSpam=file:/etc/labels\n'), [
      `${FILE}:${L}: file: lists are allowed only for keys that take several values; SubjectLabelSpam in [mailgw.policy] takes one value`,
    ])
  })

  it('reports every error in one run', () => {
    const errors = errorsOf(
      [
        '[mailgw.limits]',
        'MaximalIncomingHops=0',
        '[mailgw.bogus]',
        'X=1',
        '[mailgw.options]',
        'Xclient=perhaps',
        'Workers=1',
        'Workers=2',
        '[mailgw.forward]',
        'ForwardRoute=nothing',
        '[mailgw.network]',
        'ListenOn=localhost:25',
        'Unknown=1',
        '',
      ].join('\n'),
    )
    assert.deepEqual(
      errors.map((e) => Number(e.split(':')[1])),
      [L + 1, L + 2, L + 5, L + 7, L + 9, L + 11, L + 12],
    )
  })

  it('unreadable file is one error at line 1', () => {
    const result = loadConfig('/nonexistent/mailgw.conf')
    assert.equal(result.config, null)
    assert.deepEqual(result.errors.map(formatConfigError), ['/nonexistent/mailgw.conf:1: cannot read the configuration file: file not found'])
  })
})

describe('config list files', () => {
  let dir = ''

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailgw-config-'))
    mkdirSync(join(dir, 'lists'))
    writeFileSync(join(dir, 'lists', 'senders.txt'), '# trusted senders\n\n*@partner.example\nip 10.0.0.0/8\n  host *.partner.example  \n')
    writeFileSync(join(dir, 'lists', 'bad-senders.txt'), '*@ok.example\nip 999.1.1.1\n# fine\nfile:/etc/nested\n')
    writeFileSync(join(dir, 'lists', 'statuses.txt'), 'av/infected\nsuspicious, protected\n')
    writeFileSync(join(dir, 'routes.txt'), '*@a.example [127.0.0.1:2526]\nb.example example.net\n')
  })

  after(() => rmSync(dir, { recursive: true, force: true }))

  function parse(body: string) {
    return parseConfig(`${NETWORK}[mailgw.policy]\n${body}`, join(dir, 'mailgw.conf'))
  }

  it('reads values relative to the config', () => {
    const result = parse('BlockMessage=file:lists/statuses.txt\n[mailgw.group:partners]\nSenders=file:lists/senders.txt\n[mailgw.forward]\nForwardRoute=file:' + join(dir, 'routes.txt') + '\n')
    assert.deepEqual(result.errors, [])
    const config = result.config
    assert.ok(config)
    assert.deepEqual(config.policy.BlockMessage, ['av/infected', 'av/suspicious', 'av/protected'])
    const senders = config.groups[0].Senders ?? []
    assert.deepEqual(
      senders.map((s) => [s.kind, s.file, s.line]),
      [
        ['address', join(dir, 'lists', 'senders.txt'), 3],
        ['ip', join(dir, 'lists', 'senders.txt'), 4],
        ['host', join(dir, 'lists', 'senders.txt'), 5],
      ],
    )
    assert.deepEqual(
      config.forward.ForwardRoute.map((r) => [r.mask, r.line]),
      [
        ['*@a.example', 1],
        ['*@b.example', 2],
      ],
    )
  })

  it('reports errors at the list file line', () => {
    const result = parse('[mailgw.group:partners]\nSenders=file:lists/bad-senders.txt\n')
    const listFile = join(dir, 'lists', 'bad-senders.txt')
    assert.deepEqual(result.errors.map(formatConfigError), [
      `${listFile}:2: invalid value "ip 999.1.1.1" for Senders in [mailgw.group:partners]: expected ip ADDRESS, ip ADDRESS/BITS or ip ADDRESS/NETMASK`,
      `${listFile}:4: list files cannot include other list files ("file:/etc/nested")`,
    ])
  })

  it('shows only an excerpt of a list file line', () => {
    const secrets = join(dir, 'secrets.txt')
    writeFileSync(
      secrets,
      [
        'root:x:0:0:root:/root:/bin/bash',
        `key=${'s'.repeat(60)}`,
        'evil\x1b]0;title\x07\x1b[2Jline',
        'file:/etc/shadow-and-more-and-more-and-more-and-more',
      ].join('\n'),
    )
    const result = parseConfig(`[mailgw.network]\nHostname=mail.example.com\nPostmaster=postmaster@example.com\nProtectedDomains=file:${secrets}\n[mailgw.policy]\n`, join(dir, 'mailgw.conf'))
    const expected = 'expected a domain mask such as example.com or *.example.com'
    assert.deepEqual(result.errors.map(formatConfigError), [
      `${secrets}:1: invalid value "root:x:0:0:root:/root:/bin/bash" for ProtectedDomains in [mailgw.network]: ${expected}`,
      `${secrets}:2: invalid value "key=${'s'.repeat(36)}..." for ProtectedDomains in [mailgw.network]: ${expected}`,
      `${secrets}:3: invalid value "evil\\x1b]0;title\\x07\\x1b[2Jline" for ProtectedDomains in [mailgw.network]: ${expected}`,
      `${secrets}:4: list files cannot include other list files ("file:/etc/shadow-and-more-and-more-and-m...")`,
    ])
  })

  it('shows list file rules and networks as excerpts', () => {
    const rules = join(dir, 'rules.txt')
    const long = 'n'.repeat(50)
    writeFileSync(rules, `accept for ip ${'1'.repeat(45)}\naccept for network ${long}\naccept for network ${'M'.repeat(50)}\naccept for host \x1b[2J\n`)
    const senders = join(dir, 'network-senders.txt')
    writeFileSync(senders, `network ${long}\x1b[2J\n`)
    const networks = join(dir, 'networks.txt')
    writeFileSync(networks, `${long} 10.0.0.0/8\n${long} 10.1.0.0/16\n`)
    const result = parseConfig(
      `[mailgw.network]\nHostname=mail.example.com\nPostmaster=postmaster@example.com\nNetwork=file:${networks}\n` +
        `[mailgw.access]\nConnectRule=file:${rules}\n[mailgw.policy]\n[mailgw.group:g]\nSenders=file:${senders}\n`,
      join(dir, 'mailgw.conf'),
    )
    const messages = result.errors.map(formatConfigError)
    const cut = `${'n'.repeat(40)}...`
    assert.ok(messages.includes(`${networks}:2: duplicate network name ${cut} (first defined at ${networks}:1): give each Network its own name`), messages.join('\n'))
    assert.ok(messages.some((m) => m.startsWith(`${rules}:1: invalid ConnectRule "accept for ip ${'1'.repeat(26)}..."`)), messages.join('\n'))
    assert.ok(messages.some((m) => m.startsWith(`${senders}:1: unknown network "${'n'.repeat(40)}..." in Senders of [mailgw.group:g]`)), messages.join('\n'))
    assert.ok(messages.some((m) => m.startsWith(`${rules}:3: unknown network "${'M'.repeat(40)}..." in ConnectRule "accept for network ${'M'.repeat(21)}..."`)), messages.join('\n'))
    assert.ok(messages.some((m) => m.startsWith(`${rules}:4: invalid ConnectRule "accept for host \\x1b[2J"`)), messages.join('\n'))
    for (const message of messages) {
      assert.doesNotMatch(message, /\p{Cc}/u, `raw control character in ${JSON.stringify(message)}`)
      assert.doesNotMatch(message, /[nm]{41}/i, `long value in ${message}`)
    }
  })

  it('missing list file is an error at the config line', () => {
    const result = parse('IncludeByName=file:lists/none.txt\n')
    assert.deepEqual(result.errors.map(formatConfigError), [
      `${join(dir, 'mailgw.conf')}:5: cannot read list file "${join(dir, 'lists', 'none.txt')}" for IncludeByName in [mailgw.policy]: file not found`,
    ])
  })
})

describe('Hostname check', () => {
  it('requires a fully qualified name', () => {
    const { errors } = parseConfig('[mailgw.network]\nHostname=mx1\nPostmaster=pm@example.com\nProtectedDomains=example.com\n[mailgw.policy]\n', '/tmp/h.conf')
    assert.deepEqual(errors.map((e) => `${e.line}: ${e.message}`), [
      '2: invalid value "mx1" for Hostname in [mailgw.network]: expected a fully qualified host name such as mail.example.com',
    ])
  })
})
