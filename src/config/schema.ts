// The one declaration of every mailgw.conf section and key. The parser, the checker, the generated
// docs/config-reference.md and the commented default file all read this table, and the TypeScript
// type of the parsed config is derived from it, so none of them can drift from the others.
//
// Conventions of the table:
// - `default` is file text, parsed by the same code as a value from the file.
// - `min`/`max` are in parsed units: seconds for durations, bytes for sizes.
// - `unit` is what a plain number in the file counts (durations and sizes also take suffixes).
// - `status: 'planned'` keys are parsed and validated but not yet in effect.
// - `status: 'ignored'` keys are accepted only so that files written for KMG 5.6 still load.

import type {
  ClamdAddress,
  DnsblZone,
  ForwardRoute,
  HostPort,
  NamedNetwork,
  RuleLine,
  SenderSpec,
} from './types'

export type KeyStatus = 'active' | 'planned' | 'ignored'

/** Syntax of a value; the parsers are in values.ts. */
export type ValueKind =
  | 'string'
  | 'path'
  | 'boolean'
  | 'integer'
  | 'duration'
  | 'size'
  | 'enum'
  | 'hostname'
  | 'address'
  | 'addressMask'
  | 'domainMask'
  | 'nameMask'
  | 'mimeMask'
  | 'ipPort'
  | 'nameserver'
  | 'clamdSocket'
  | 'url'
  | 'rule'
  | 'dnsbl'
  | 'namedNetwork'
  | 'forwardRoute'
  | 'sender'
  | 'statusList'
  | 'subjectMarkList'

export type DurationUnit = 'seconds' | 'days'
export type SizeUnit = 'KB' | 'MB'

export interface KeySpec {
  readonly type: ValueKind
  readonly doc: string
  readonly status: KeyStatus
  /** File text of the default; a list of lines for repeatable keys. */
  readonly default?: string | readonly string[]
  /** Another key whose parsed value is the default (read after the whole file is parsed). */
  readonly fallback?: 'Postmaster'
  readonly min?: number
  readonly max?: number
  readonly unit?: DurationUnit | SizeUnit
  readonly values?: readonly string[]
  /** The key may appear on several lines; list values accumulate. */
  readonly repeatable?: boolean
  /** One line may hold several comma-separated items. */
  readonly commaList?: boolean
  /** An empty value is allowed: an empty list, or "not set" for single values. */
  readonly allowEmpty?: boolean
  readonly required?: boolean
  /** Base directory of a relative path. */
  readonly base?: 'instance' | 'config' | 'templates'
  /** Text shown as the default in the docs when the default is computed. */
  readonly defaultText?: string
  /** Value the generated default file gives a required key, for the administrator to replace. */
  readonly example?: string
}

export interface SectionSpec {
  /** Header after the `mailgw.` (or `smtpgw.`) prefix, or the whole header when unprefixed. */
  readonly header: string
  readonly prefixed: boolean
  readonly doc: string
  readonly keys: Readonly<Record<string, KeySpec>>
}

const STATUS_LIST_DOC =
  'comma list of as/spam, as/probable, as/formal, as/blacklisted, as/all, av/clean, av/infected, ' +
  'av/disinfected, av/suspicious, av/protected, av/error, av/not_checked, av/filtered, av/all or none'

const OBJECT_ACTIONS = ['pass', 'remove', 'placeholder'] as const

/** Keys of [mailgw.policy]; a group section may set any of them and inherits the rest. */
export const POLICY_KEYS = {
  CheckSpam: { type: 'boolean', default: 'true', status: 'active', doc: 'Run the anti-spam checks on the mail of this group.' },
  CheckAV: { type: 'boolean', default: 'true', status: 'active', doc: 'Scan the objects of the mail of this group with clamd.' },
  SpamDetection: {
    type: 'enum',
    values: ['soft', 'standard', 'hard', 'minimum', 'high', 'maximum'],
    status: 'active',
    defaultText: 'not set',
    doc: 'Older name of SpamRateLimit (soft = minimum, hard = maximum); used when SpamRateLimit is not set in the same section.',
  },
  SpamRateLimit: {
    type: 'enum',
    values: ['minimum', 'standard', 'high', 'maximum'],
    default: 'standard',
    status: 'active',
    doc: 'Anti-spam filtering intensity: the higher, the fewer spam signs make a message spam.',
  },
  SpamCheckSizeLimit: {
    type: 'size',
    unit: 'KB',
    min: 0,
    max: 204800 * 1024,
    default: '1024',
    status: 'active',
    doc: 'Largest message the anti-spam checks read; larger messages are not checked for spam; 0 = no limit.',
  },
  SpamUseDNS: { type: 'boolean', default: 'true', status: 'active', doc: 'Allow anti-spam checks that query DNS (the four SpamCheck* DNS checks below need it).' },
  SpamCheckDNSBL: { type: 'boolean', default: 'true', status: 'active', doc: 'Look up the client and Received addresses in the DNSBlackList zones.' },
  SpamCheckHostInDNS: { type: 'boolean', default: 'true', status: 'active', doc: 'Count a client address without reverse DNS as a spam sign.' },
  SpamCheckSPF: { type: 'boolean', default: 'true', status: 'active', doc: 'Check the envelope sender against the SPF policy of its domain.' },
  SpamCheckSURBL: { type: 'boolean', default: 'true', status: 'active', doc: 'Look up the domains of links in the message in the UriBlackList zones.' },
  SpamHeadersToUndisclosed: { type: 'boolean', default: 'true', status: 'active', doc: 'Count an "undisclosed recipients" To header as a spam sign.' },
  SpamHeadersFromOrToDigits: { type: 'boolean', default: 'true', status: 'active', doc: 'Count runs of digits in From or To addresses as a spam sign.' },
  SpamHeadersFromOrToNoDomain: { type: 'boolean', default: 'true', status: 'active', doc: 'Count From or To addresses without a domain as a spam sign.' },
  SpamHeadersSubjectTooLong: { type: 'boolean', default: 'true', status: 'active', doc: 'Count a very long Subject as a spam sign.' },
  SpamHeadersSubjectWSOrDots: { type: 'boolean', default: 'true', status: 'active', doc: 'Count runs of spaces or dots in the Subject as a spam sign.' },
  SpamHeadersSubjectDigitIDOrTimestamp: { type: 'boolean', default: 'true', status: 'active', doc: 'Count a numeric id or time stamp in the Subject as a spam sign.' },
  SpamHeadersMarkAllChinese: { type: 'boolean', default: 'false', status: 'active', doc: 'Treat every message with Chinese text in its headers as spam.' },
  SpamHeadersMarkAllKorean: { type: 'boolean', default: 'false', status: 'active', doc: 'Treat every message with Korean text in its headers as spam.' },
  SpamHeadersMarkAllThai: { type: 'boolean', default: 'false', status: 'active', doc: 'Treat every message with Thai text in its headers as spam.' },
  SpamHeadersMarkAllJapanese: { type: 'boolean', default: 'false', status: 'active', doc: 'Treat every message with Japanese text in its headers as spam.' },
  SpamCheckEnvelope: { type: 'boolean', default: 'true', status: 'active', doc: 'Count an envelope sender or recipients that the From, To and Cc headers do not name as a spam sign.' },
  SpamCheckReceived: { type: 'boolean', default: 'true', status: 'active', doc: 'Count Received headers without a date or with dates out of order as spam signs.' },
  SpamCheckContent: { type: 'boolean', default: 'true', status: 'active', doc: 'Run the content check: rspamd when SpamEngine=rspamd, else the built-in one (GTUBE, invisible text, mismatched links, spam phrases).' },
  SpamCheckReputation: { type: 'boolean', default: 'true', status: 'active', doc: "Count a negative karma score of the client as a spam sign; takes effect only when Karma=true in [mailgw.antispam]." },
  SpamMarkProbable: { type: 'boolean', default: 'true', status: 'active', doc: 'Add a probable-spam mark to the X-SpamTest headers of probable spam.' },
  SpamMarkObscene: { type: 'boolean', default: 'false', status: 'active', doc: 'Add an obscene-content mark to the X-SpamTest headers when detected.' },
  MarkSubject: {
    type: 'subjectMarkList',
    repeatable: true,
    allowEmpty: true,
    default: 'spam,probable',
    status: 'active',
    doc: 'Anti-spam statuses whose label is put before the Subject: comma list of spam, probable, formal, blacklisted, all or none.',
  },
  SubjectLabelSpam: { type: 'string', default: '[!! SPAM]', status: 'active', doc: 'Subject label of as/spam messages.' },
  SubjectLabelProbable: { type: 'string', default: '[?? Probable Spam]', status: 'active', doc: 'Subject label of as/probable messages.' },
  SubjectLabelFormal: { type: 'string', default: '[--Formal Message--]', status: 'active', doc: 'Subject label of as/formal messages.' },
  SubjectLabelBlacklisted: { type: 'string', default: '[-- Blacklisted --]', status: 'active', doc: 'Subject label of as/blacklisted messages.' },
  AVCure: { type: 'boolean', default: 'false', status: 'active', doc: 'Try to disinfect infected objects; clamd cannot disinfect, so with clamd no object is ever av/disinfected.' },
  AVScanArchives: { type: 'boolean', default: 'true', status: 'active', doc: 'Scan inside archives (zip, tar, ...) and match IncludeByName against the names inside them.' },
  AVScanMailBases: { type: 'boolean', default: 'true', status: 'active', doc: 'Scan inside mailbox and mail files found in attachments (clamd ScanMail); attached message/rfc822 parts are always split and scanned.' },
  ActionInfected: { type: 'enum', values: OBJECT_ACTIONS, default: 'remove', status: 'active', doc: 'What happens to an av/infected object.' },
  ActionSuspicious: { type: 'enum', values: OBJECT_ACTIONS, default: 'remove', status: 'active', doc: 'What happens to an av/suspicious object.' },
  ActionProtected: { type: 'enum', values: OBJECT_ACTIONS, default: 'remove', status: 'active', doc: 'What happens to an av/protected (encrypted) object.' },
  ActionError: { type: 'enum', values: OBJECT_ACTIONS, default: 'remove', status: 'active', doc: 'What happens to an object whose scan failed (av/error).' },
  ActionFiltered: { type: 'enum', values: OBJECT_ACTIONS, default: 'remove', status: 'active', doc: 'What happens to an object selected by the name and MIME filters (av/filtered).' },
  ActionDisinfected: {
    type: 'enum',
    values: ['cure', 'pass', 'remove', 'placeholder'],
    default: 'cure',
    status: 'active',
    doc: 'What happens to an infected object that AVCure disinfected: cure puts the disinfected copy in its place.',
  },
  BlockMessage: {
    type: 'statusList',
    repeatable: true,
    allowEmpty: true,
    default: 'av/infected,av/suspicious,av/protected,av/error',
    status: 'active',
    doc: `Statuses that stop delivery of the message copy: ${STATUS_LIST_DOC}.`,
  },
  QuarantineMessage: {
    type: 'statusList',
    repeatable: true,
    allowEmpty: true,
    default: '',
    status: 'active',
    doc: 'Statuses whose messages are saved in AVQuarantinePath (av/*) or ASQuarantinePath (as/*); same values as BlockMessage.',
  },
  NotifyAdmin: {
    type: 'statusList',
    repeatable: true,
    allowEmpty: true,
    default: 'av/infected,av/suspicious,av/protected,av/error,av/filtered',
    status: 'active',
    doc: 'Statuses that send a notification to AdminNotifyAddress; same values as BlockMessage.',
  },
  NotifyRecipient: {
    type: 'statusList',
    repeatable: true,
    allowEmpty: true,
    default: 'av/infected,av/suspicious,av/protected,av/error,av/filtered',
    status: 'active',
    doc: 'Statuses that send a notification to the recipients; same values as BlockMessage.',
  },
  NotifySender: {
    type: 'statusList',
    repeatable: true,
    allowEmpty: true,
    default: '',
    status: 'active',
    doc: 'Statuses that send a notification to the envelope sender; same values as BlockMessage.',
  },
  AVQuarantinePath: { type: 'path', base: 'instance', default: 'var/quarantine/av', status: 'active', doc: 'Directory of messages quarantined for an av/* status; relative to the instance directory.' },
  ASQuarantinePath: { type: 'path', base: 'instance', default: 'var/quarantine/as', status: 'active', doc: 'Directory of messages quarantined for an as/* status; relative to the instance directory.' },
  IncludeByName: {
    type: 'nameMask',
    repeatable: true,
    allowEmpty: true,
    default: [],
    status: 'active',
    doc: 'File-name masks of objects to filter (av/filtered); when empty but ExcludeByName is set, every object not excluded is filtered.',
  },
  ExcludeByName: { type: 'nameMask', repeatable: true, allowEmpty: true, default: [], status: 'active', doc: 'File-name masks of objects never filtered.' },
  IncludeByMime: {
    type: 'mimeMask',
    repeatable: true,
    allowEmpty: true,
    default: [],
    status: 'active',
    doc: 'MIME type masks (type/subtype) of objects to filter; when empty but ExcludeByMime is set, every object not excluded is filtered.',
  },
  ExcludeByMime: { type: 'mimeMask', repeatable: true, allowEmpty: true, default: [], status: 'active', doc: 'MIME type masks of objects never filtered.' },
  AdminNotifyAddress: { type: 'address', fallback: 'Postmaster', defaultText: 'the Postmaster address', status: 'active', doc: 'Recipient of administrator notifications.' },
  NotifyFromAddress: { type: 'address', fallback: 'Postmaster', defaultText: 'the Postmaster address', status: 'active', doc: 'Sender address of the notifications the gateway sends.' },
  NotifyProbablyForgedSender: {
    type: 'boolean',
    default: 'false',
    status: 'active',
    doc: 'Send NotifySender notifications also for spam and virus mail (as/*, av/infected, av/suspicious, av/disinfected), whose sender address is usually forged.',
  },
  NotifyAdminTemplate: { type: 'path', base: 'templates', default: 'admin.tmpl', status: 'active', doc: 'Template of administrator notifications; relative to TemplatesPath.' },
  NotifyRecipientTemplate: { type: 'path', base: 'templates', default: 'recipient.tmpl', status: 'active', doc: 'Template of recipient notifications; relative to TemplatesPath.' },
  NotifySenderTemplate: { type: 'path', base: 'templates', default: 'sender.tmpl', status: 'active', doc: 'Template of sender notifications; relative to TemplatesPath.' },
  PlaceholderTemplate: { type: 'path', base: 'templates', default: 'placeholder.tmpl', status: 'active', doc: 'Template of the text that replaces a removed object; relative to TemplatesPath.' },
  DsnTemplate: { type: 'path', base: 'templates', default: 'dsn.tmpl', status: 'active', doc: 'Template of the delivery status notifications the gateway writes; relative to TemplatesPath.' },
} as const satisfies Record<string, KeySpec>

/** Keys only a [mailgw.group:NAME] section has: which mail belongs to the group. */
export const GROUP_SELECTOR_KEYS = {
  Senders: {
    type: 'sender',
    repeatable: true,
    allowEmpty: true,
    defaultText: 'not set (*@*)',
    status: 'active',
    doc: 'Envelope senders of the group: an address mask, ip A[/BITS|/NETMASK], host MASK or network NAME; not set = any sender, empty = none.',
  },
  Recipients: {
    type: 'addressMask',
    repeatable: true,
    allowEmpty: true,
    defaultText: 'not set (*@*)',
    status: 'active',
    doc: 'Recipient address masks of the group; not set = any recipient, empty = none.',
  },
} as const satisfies Record<string, KeySpec>

export const SCHEMA = {
  network: {
    header: 'network',
    prefixed: true,
    doc: 'Where the gateway listens, how it names itself, which domains it receives mail for, named networks.',
    keys: {
      ListenOn: {
        type: 'ipPort',
        repeatable: true,
        default: ['0.0.0.0:25'],
        status: 'active',
        doc: 'Address and port to accept SMTP on, as IP:PORT (IPv6 as [::1]:25); repeat for several.',
      },
      Hostname: { type: 'hostname', required: true, example: 'mail.example.com', status: 'active', doc: 'Fully qualified name the gateway uses in its greeting, HELO and DSNs.' },
      Postmaster: { type: 'address', required: true, example: 'postmaster@example.com', status: 'active', doc: 'Address of the postmaster; also the default for AdminNotifyAddress and NotifyFromAddress.' },
      ProtectedDomains: {
        type: 'domainMask',
        repeatable: true,
        commaList: true,
        allowEmpty: true,
        default: [],
        status: 'active',
        doc: 'Domain masks (* and ?) the gateway accepts mail for without a RelayRule; repeat or separate with commas.',
      },
      Network: {
        type: 'namedNetwork',
        repeatable: true,
        default: [],
        status: 'active',
        doc: 'Named network for rules and Senders: NAME ADDRESS[/BITS|/NETMASK][,...], IPv4 or IPv6.',
      },
    },
  },
  access: {
    header: 'access',
    prefixed: true,
    doc: 'SMTP access rules, tried in file order; the first rule that matches decides.',
    keys: {
      ConnectRule: { type: 'rule', repeatable: true, default: [], status: 'active', doc: 'Decision at connect: VERDICT [for] any | ip A[/M] | network NAME | host MASK | in_dnsbl.' },
      HeloRule: { type: 'rule', repeatable: true, default: [], status: 'active', doc: 'Decision at HELO/EHLO: VERDICT [for] any | has_ip | no_ip | same_ip | diff_ip.' },
      MailfromRule: { type: 'rule', repeatable: true, default: [], status: 'active', doc: 'Decision at MAIL FROM: VERDICT [for] any | has_ip | no_ip | has_mx | no_mx.' },
      RelayRule: { type: 'rule', repeatable: true, default: [], status: 'active', doc: 'Decision per recipient: VERDICT [from SUBJECT] [to MASKS]; a recipient outside ProtectedDomains needs a rule that accepts it.' },
      DNSBlackList: {
        type: 'dnsbl',
        repeatable: true,
        default: [],
        status: 'active',
        doc: 'DNSBL zone and its rating 1..100 (default 100); in_dnsbl holds when the ratings of the listing zones add up to 100.',
      },
    },
  },
  forward: {
    header: 'forward',
    prefixed: true,
    doc: 'Routing of processed mail; a recipient that matches no ForwardRoute goes to the MX of its own domain.',
    keys: {
      ForwardRoute: {
        type: 'forwardRoute',
        repeatable: true,
        default: [],
        status: 'active',
        doc: 'MASK DOMAIN (MX of DOMAIN), MASK [HOST] (port 25) or MASK [HOST:PORT]; MASK is an address mask, a domain, any or *; first match wins.',
      },
    },
  },
  limits: {
    header: 'limits',
    prefixed: true,
    doc: 'Session, message and queue limits.',
    keys: {
      IncomingSessions: { type: 'integer', min: 1, max: 1024, default: '100', status: 'active', doc: 'Maximum number of simultaneous incoming SMTP sessions.' },
      OutgoingSessions: { type: 'integer', min: 1, max: 1024, default: '20', status: 'active', doc: 'Maximum number of simultaneous outgoing SMTP sessions.' },
      AntiviralSessions: { type: 'integer', min: 10, max: 1024, default: '10', status: 'active', doc: 'Maximum number of objects scanned at the same time.' },
      MaximalIncomingHops: { type: 'integer', min: 1, max: 100, default: '20', status: 'active', doc: 'Maximum number of Received headers; more means a mail loop and the message is rejected.' },
      MaximalIncomingMessageSize: {
        type: 'size',
        unit: 'KB',
        min: 64 * 1024,
        max: 204800 * 1024,
        default: '10240',
        status: 'active',
        doc: 'Largest message accepted; advertised in the SIZE extension.',
      },
      MaximalIncomingMessagesPerSession: { type: 'integer', min: 1, max: 1024, default: '100', status: 'active', doc: 'Maximum number of messages in one SMTP session.' },
      MaximalIncomingRcptsPerMessage: { type: 'integer', min: 1, max: 1024, default: '100', status: 'active', doc: 'Maximum number of recipients of one message.' },
      MaximalIncomingSessionSize: {
        type: 'size',
        unit: 'KB',
        min: 64 * 1024,
        max: 2048000 * 1024,
        default: '10240',
        status: 'active',
        doc: 'Maximum number of bytes of all messages of one SMTP session.',
      },
      MaximalIncomingSessionsPerIP: { type: 'integer', min: 1, max: 1024, default: '4', status: 'active', doc: 'Maximum number of simultaneous incoming sessions from one client address.' },
      MaximalOutgoingSessionsPerHost: {
        type: 'integer',
        min: 1,
        max: 1024,
        default: '4',
        status: 'active',
        doc: 'Maximum number of simultaneous outgoing sessions to one host (IP or name and port); divided among Workers, at least 1 each.',
      },
      MinimalQueueFreeSpaceSize: {
        type: 'size',
        unit: 'MB',
        min: 0,
        max: 1000000 * 1024 * 1024,
        default: '0',
        status: 'active',
        doc: 'Free disk space the queue file system must keep; below it new mail gets a temporary failure; 0 = no limit.',
      },
    },
  },
  timeouts: {
    header: 'timeouts',
    prefixed: true,
    doc: 'Retry schedule and network timeouts. A plain number counts the unit shown; s, m, h and d suffixes are also accepted.',
    keys: {
      MinimalBackoffTime: {
        type: 'duration',
        unit: 'seconds',
        min: 5,
        max: 64800,
        default: '1800',
        status: 'active',
        doc: 'Delay before the first retry of a deferred delivery (KMG allowed 64 s and up; 5 s is the shortest retry delay of Haraka).',
      },
      MaximalBackoffTime: {
        type: 'duration',
        unit: 'seconds',
        min: 5,
        max: 64800,
        default: '21600',
        status: 'active',
        doc: 'Longest delay between retries; must not be below MinimalBackoffTime (KMG allowed 60 s and up; 5 s is the shortest retry delay of Haraka).',
      },
      MaximalQueueLifetime: {
        type: 'duration',
        unit: 'days',
        min: 10,
        max: 14 * 86400,
        default: '5',
        status: 'active',
        doc: 'How long undeliverable mail is retried before it bounces with a DSN (KMG allowed 1 to 14 days; 10 s and up is accepted for tests).',
      },
      ReadTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 1200, default: '120', status: 'planned', doc: 'Time allowed for one network read.' },
      WriteTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 1200, default: '120', status: 'planned', doc: 'Time allowed for one network write.' },
      ReceivingCommandTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 1200, default: '300', status: 'active', doc: 'Time a client has to send HELO/EHLO, MAIL, RCPT or QUIT.' },
      ReceivingDataInitiationTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 2400, default: '600', status: 'active', doc: 'Time a client has to send DATA.' },
      ReceivingDataTerminationTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 7200, default: '300', status: 'active', doc: 'Time a client has to finish the message data with CRLF.CRLF.' },
      SendingInitialTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 1200, default: '300', status: 'planned', doc: 'Time a remote server has to send its greeting.' },
      SendingHelloTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 1200, default: '300', status: 'planned', doc: 'Time a remote server has to answer HELO/EHLO.' },
      SendingMailTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 1200, default: '300', status: 'planned', doc: 'Time a remote server has to answer MAIL FROM.' },
      SendingRcptTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 1200, default: '300', status: 'planned', doc: 'Time a remote server has to answer RCPT TO.' },
      SendingDataInitiationTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 2400, default: '600', status: 'planned', doc: 'Time a remote server has to answer DATA.' },
      SendingDataTerminationTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 7200, default: '300', status: 'planned', doc: 'Time a remote server has to accept the message after CRLF.CRLF.' },
      SendingQuitTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 1200, default: '300', status: 'planned', doc: 'Time a remote server has to answer QUIT.' },
      // NOTE: KMG's ranges and defaults for ScanTimeout and the DNS keys are not in its guide; these are our choice.
      ScanTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 3600, default: '120', status: 'active', doc: 'Time clamd has to scan one object before the message gets a temporary failure.' },
      DNSNetworkTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 1200, default: '10', status: 'active', doc: 'Time one DNS server has to answer one query.' },
      DNSResolveTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 1200, default: '30', status: 'active', doc: 'Time all attempts of one DNS lookup may take together.' },
      DNSCacheMaximalTTL: { type: 'duration', unit: 'seconds', min: 0, max: 259200, default: '43200', status: 'active', doc: 'Longest time a DNS answer is cached, whatever its TTL; 0 = no cache.' },
      UnreachableCacheTTL: { type: 'duration', unit: 'seconds', min: 0, max: 3600, default: '600', status: 'planned', doc: 'How long a host that could not be reached is skipped for delivery.' },
    },
  },
  resolve: {
    header: 'resolve',
    prefixed: true,
    doc: 'DNS client of the gateway (the DNS timeouts are in [mailgw.timeouts]).',
    keys: {
      Nameserver: {
        type: 'nameserver',
        repeatable: true,
        default: [],
        defaultText: 'the system resolvers',
        status: 'active',
        doc: 'DNS server to query, as IP or IP:PORT (IPv6 as [::1]:53), port 53 when missing; none = the system resolvers.',
      },
    },
  },
  archive: {
    header: 'archive',
    prefixed: true,
    doc: 'Copies of all incoming and outgoing mail.',
    keys: {
      IncomingArchivePath: { type: 'path', base: 'instance', allowEmpty: true, status: 'active', doc: 'Directory that keeps a copy of every received message; not set or empty = off.' },
      OutgoingArchivePath: { type: 'path', base: 'instance', allowEmpty: true, status: 'active', doc: 'Directory that keeps a copy of every sent message, notifications included; not set or empty = off.' },
      IncomingBcc: { type: 'address', repeatable: true, allowEmpty: true, default: [], status: 'active', doc: 'Address that receives a blind copy of every received message before it is scanned.' },
    },
  },
  antivirus: {
    header: 'antivirus',
    prefixed: true,
    doc: 'The clamd scanner (scan settings per group are in [mailgw.policy]).',
    keys: {
      ClamdSocket: {
        type: 'clamdSocket',
        default: '/var/run/clamav/clamd.ctl',
        status: 'active',
        doc: 'Where clamd listens: an absolute Unix socket path or HOST:PORT; not used with Clamd=true of [mailgw.local].',
      },
      ClamdDatabaseDirectory: {
        type: 'path',
        base: 'instance',
        default: '/var/lib/clamav',
        status: 'active',
        doc: 'Signature directory of the clamd at ClamdSocket, read for the signature count (and the date of unofficial databases) in X-Anti-Virus.',
      },
    },
  },
  antispam: {
    header: 'antispam',
    prefixed: true,
    doc: 'The anti-spam engine (checks per group are in [mailgw.policy]).',
    keys: {
      SpamEngine: { type: 'enum', values: ['builtin', 'rspamd'], default: 'builtin', status: 'active', doc: 'Anti-spam engine: builtin (header, DNS and URI checks) or rspamd.' },
      RspamdUrl: { type: 'url', default: 'http://127.0.0.1:11333', status: 'active', doc: 'HTTP address of rspamd when SpamEngine=rspamd.' },
      RspamdTimeout: { type: 'duration', unit: 'seconds', min: 1, max: 600, default: '30', status: 'active', doc: 'Time rspamd has to check one message before the message gets a temporary failure.' },
      UriBlackList: { type: 'hostname', repeatable: true, default: [], status: 'active', doc: 'SURBL-style zone that lists domains found in links; used when SpamCheckSURBL is on.' },
      Karma: {
        type: 'boolean',
        default: 'false',
        status: 'active',
        doc: "Run haraka-plugin-karma and use its connection score as the SpamCheckReputation sign; karma keeps its history in Redis, so this needs Redis=true in [mailgw.local] or RedisServer in [mailgw.options]. Karma's own rejections are off.",
      },
      SpamDetection: {
        type: 'enum',
        values: ['soft', 'standard', 'hard', 'minimum', 'high', 'maximum'],
        defaultText: 'not set',
        status: 'active',
        doc: 'Where KMG 5.5 set the filtering intensity; becomes SpamRateLimit of [mailgw.policy] when that section sets neither.',
      },
    },
  },
  options: {
    header: 'options',
    prefixed: true,
    doc: 'How the gateway runs.',
    keys: {
      Workers: { type: 'integer', min: 0, max: 256, default: '0', status: 'active', doc: 'Haraka worker processes; 0 = one process without a cluster master.' },
      QueuePath: { type: 'path', base: 'instance', default: 'var/queue', status: 'active', doc: 'Directory of the outbound queue; relative to the instance directory (the parent of the config directory).' },
      SpoolPath: {
        type: 'path',
        base: 'instance',
        default: 'var/spool',
        status: 'active',
        doc: 'Directory where Haraka keeps a message larger than SpoolAfter while it is received; relative to the instance directory.',
      },
      SpoolAfter: {
        type: 'size',
        unit: 'KB',
        min: 0,
        max: 1024 * 1024 * 1024,
        default: '1024',
        status: 'active',
        doc: 'Size above which a message being received is written to SpoolPath instead of being held in memory; 0 = always write to disk.',
      },
      RedisServer: {
        type: 'clamdSocket',
        allowEmpty: true,
        status: 'active',
        doc: 'Redis shared by every gateway node for the session limits (socket path or HOST:PORT); not set = the private Redis of [mailgw.local] when Redis=true, else each process counts alone.',
      },
      Xclient: { type: 'boolean', default: 'false', status: 'active', doc: 'Allow XCLIENT from loopback clients so tests can play outside clients; never enable in production.' },
      EngineModule: {
        type: 'path',
        base: 'config',
        allowEmpty: true,
        status: 'active',
        doc: 'CommonJS module whose createEngines() returns the anti-spam and/or anti-virus engine (see docs/policy.md); relative to the directory of this file; not set = built-in engines only.',
      },
      TemplatesPath: { type: 'path', base: 'config', default: 'templates', status: 'active', doc: 'Directory of the notification templates; relative to the directory of this file.' },
    },
  },
  local: {
    header: 'local',
    prefixed: true,
    doc: 'Services that `mailgw start` runs on loopback for a self-contained setup: for the embedded default and tests, not for production.',
    keys: {
      Mailbox: { type: 'ipPort', allowEmpty: true, status: 'active', doc: 'IP:PORT of a local mailbox server that stores delivered mail; not set or empty = none.' },
      MailboxPath: { type: 'path', base: 'instance', default: 'var/mailbox', status: 'active', doc: 'Directory where the local mailbox stores mail; relative to the instance directory.' },
      Clamd: { type: 'boolean', default: 'false', status: 'active', doc: 'Start a private clamd with the bundled offline signatures.' },
      Redis: { type: 'boolean', default: 'false', status: 'active', doc: 'Start a private Redis server.' },
    },
  },
  policy: {
    header: 'policy',
    prefixed: true,
    doc: 'Mandatory. How mail is checked and handled when it belongs to no group; groups inherit every key they do not set.',
    keys: POLICY_KEYS,
  },
  updaterOptions: {
    header: 'updater.options',
    prefixed: false,
    doc: 'KMG keepup2date settings, accepted so that KMG files load; ClamAV signatures are updated by freshclam instead.',
    keys: {
      KeepSilent: { type: 'boolean', default: 'false', status: 'ignored', doc: 'KMG: updater prints nothing on the console.' },
      UpdateComponentsList: { type: 'string', allowEmpty: true, status: 'ignored', doc: 'KMG: comma list of database components to update.' },
      RetranslateComponentsList: { type: 'string', allowEmpty: true, status: 'ignored', doc: 'KMG: comma list of components copied to a shared update directory.' },
      UpdateServerUrl: { type: 'string', allowEmpty: true, status: 'ignored', doc: 'KMG: update source URL or directory.' },
      UseUpdateServerUrl: { type: 'boolean', default: 'false', status: 'ignored', doc: 'KMG: use UpdateServerUrl.' },
      UseUpdateServerUrlOnly: { type: 'boolean', default: 'false', status: 'ignored', doc: 'KMG: use UpdateServerUrl and no other source.' },
      PostUpdateCmd: { type: 'string', allowEmpty: true, status: 'ignored', doc: 'KMG: command run after an update.' },
      ProxyAddress: { type: 'string', allowEmpty: true, status: 'ignored', doc: 'KMG: HTTP proxy of the updater.' },
    },
  },
  updaterReport: {
    header: 'updater.report',
    prefixed: false,
    doc: 'KMG keepup2date report settings, accepted so that KMG files load.',
    keys: {
      Append: { type: 'boolean', default: 'false', status: 'ignored', doc: 'KMG: append to the update report instead of overwriting it.' },
      ReportLevel: { type: 'integer', min: 0, max: 9, default: '1', status: 'ignored', doc: 'KMG: detail level of the update report.' },
      ReportFileName: { type: 'string', allowEmpty: true, status: 'ignored', doc: 'KMG: file of the update report.' },
    },
  },
} as const satisfies Record<string, SectionSpec>

export type SectionId = keyof typeof SCHEMA

/** The group section as a spec, for lookups and docs: selector keys first, then the policy keys. */
export const GROUP_SECTION = {
  header: 'group:NAME',
  prefixed: true,
  doc: 'Any number of groups, tried in file order; a recipient belongs to the first group whose Senders and Recipients both match. At least one of the two must be set.',
  keys: { ...GROUP_SELECTOR_KEYS, ...POLICY_KEYS },
} as const satisfies SectionSpec

/** Order of the sections in the reference and in the default file. */
export const SECTION_ORDER: readonly (SectionId | 'group')[] = [
  'network',
  'access',
  'forward',
  'limits',
  'timeouts',
  'resolve',
  'archive',
  'antivirus',
  'antispam',
  'options',
  'local',
  'policy',
  'group',
  'updaterOptions',
  'updaterReport',
]

export function sectionSpec(id: SectionId | 'group'): SectionSpec {
  return id === 'group' ? GROUP_SECTION : SCHEMA[id]
}

/** `[mailgw.limits]`, `[updater.options]`, `[mailgw.group:NAME]`: the canonical header of a section. */
export function sectionTitle(id: SectionId | 'group', groupName = 'NAME'): string {
  if (id === 'group') return `[mailgw.group:${groupName}]`
  const spec = SCHEMA[id]
  return spec.prefixed ? `[mailgw.${spec.header}]` : `[${spec.header}]`
}

interface ValueTypes {
  string: string
  path: string
  boolean: boolean
  integer: number
  duration: number
  size: number
  enum: string
  hostname: string
  address: string
  addressMask: string
  domainMask: string
  nameMask: string
  mimeMask: string
  ipPort: HostPort
  nameserver: HostPort
  clamdSocket: ClamdAddress
  url: string
  rule: RuleLine
  dnsbl: DnsblZone
  namedNetwork: NamedNetwork
  forwardRoute: ForwardRoute
  sender: SenderSpec
  statusList: string
  subjectMarkList: string
}

type ItemOf<K extends KeySpec> = K extends { type: 'enum'; values: readonly (infer V)[] } ? V : ValueTypes[K['type']]

/** The parsed type of one key: lists are arrays, keys without a default may be undefined. */
export type FieldOf<K extends KeySpec> = K extends { repeatable: true } | { commaList: true }
  ? ItemOf<K>[]
  : K extends { default: string } | { required: true } | { fallback: string }
    ? ItemOf<K>
    : ItemOf<K> | undefined

export type SectionValues<Keys extends Readonly<Record<string, KeySpec>>> = {
  [N in keyof Keys]: FieldOf<Keys[N]>
}
