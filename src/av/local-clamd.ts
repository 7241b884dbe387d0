// Where the gateway finds clamd, and the private clamds that `[mailgw.local] Clamd=true` runs.
//
// clamd reads ScanArchive and ScanMail from clamd.conf only: INSTREAM has no per-request options.
// So AVScanArchives and AVScanMailBases select a clamd rather than an option:
//   - with Clamd=true, the launcher starts one private clamd for each combination of the two keys
//     that the policy and the groups use (most configs use one), each with its own clamd.conf
//     and Unix socket under <instance>/var/clamd/<variant>/;
//   - with an external clamd (ClamdSocket), every object goes to that one clamd, and its own
//     ScanArchive and ScanMail apply. startup notices name each group whose keys it cannot honour.
// The same module checks clamd's size limits against MaximalIncomingMessageSize, because an
// object over StreamMaxLength, MaxFileSize or MaxScanSize is not fully scanned (av/error).

import fs from 'node:fs';
import path from 'node:path';

import type { MailgwConfig } from '../config';
import { readDatabaseFacts } from './bases';
import { DEFAULT_CLAMD_LIMITS, bundledDatabaseDir, startClamd, type ClamdLimits, type ClamdScanOptions } from './clamd-service';
import { superviseClamd, type SupervisedClamd } from './clamd-supervisor';

/** The four ScanArchive/ScanMail combinations, named for their state directories. */
export function variantName(scan: ClamdScanOptions): string {
  if (scan.archives && scan.mail) return 'archives-mail';
  if (scan.archives) return 'archives';
  if (scan.mail) return 'mail';
  return 'plain';
}

/** The combinations of AVScanArchives and AVScanMailBases used by the policy and the groups that scan. */
export function scanVariantsInUse(config: Pick<MailgwConfig, 'policy' | 'groups'>): ClamdScanOptions[] {
  const variants = new Map<string, ClamdScanOptions>();
  for (const settings of [config.policy, ...config.groups.map((group) => group.settings)]) {
    if (!settings.CheckAV) continue;
    const scan = { archives: settings.AVScanArchives, mail: settings.AVScanMailBases };
    variants.set(variantName(scan), scan);
  }
  return [...variants.values()];
}

/** State directory of all private clamds: <instance>/var/clamd, the instance being the parent of the config directory. */
export function localClamdRoot(config: Pick<MailgwConfig, 'dir'>): string {
  return path.resolve(path.dirname(config.dir), 'var', 'clamd');
}

export function localClamdSocket(config: Pick<MailgwConfig, 'dir'>, scan: ClamdScanOptions): string {
  return path.join(localClamdRoot(config), variantName(scan), 'clamd.sock');
}

/**
 * Signature directory of the private clamds: <package>/var/clamav-db when clamav/setup-databases.sh
 * prepared it (freshclam's databases or a copy of the bundled ones), else the bundled clamav/db.
 */
export function localDatabaseDir(packageRoot: string): string {
  const prepared = path.join(packageRoot, 'var', 'clamav-db');
  const hasDatabase = fs.existsSync(prepared) && fs.readdirSync(prepared).some((name) => /\.(c[vl]d|ndb|hdb|ldb)$/i.test(name));
  return hasDatabase ? prepared : bundledDatabaseDir();
}

/** Limits of the private clamds: the defaults, raised so that the largest accepted message fits. */
export function localClamdLimits(config: Pick<MailgwConfig, 'limits' | 'timeouts'>): ClamdLimits {
  const messageSize = config.limits.MaximalIncomingMessageSize;
  const scanTimeoutMs = config.timeouts.ScanTimeout * 1000;
  return {
    ...DEFAULT_CLAMD_LIMITS,
    streamMaxLength: Math.max(DEFAULT_CLAMD_LIMITS.streamMaxLength, messageSize),
    maxFileSize: Math.max(DEFAULT_CLAMD_LIMITS.maxFileSize, messageSize),
    maxScanSize: Math.max(DEFAULT_CLAMD_LIMITS.maxScanSize, messageSize),
    // clamd must end a slow scan with a verdict before the gateway's ScanTimeout gives up on it.
    maxScanTimeMs: Math.max(1000, Math.min(DEFAULT_CLAMD_LIMITS.maxScanTimeMs, Math.floor(scanTimeoutMs * 0.75))),
    maxThreads: Math.max(DEFAULT_CLAMD_LIMITS.maxThreads, config.limits.AntiviralSessions),
  };
}

export type SizeLimits = Pick<ClamdLimits, 'streamMaxLength' | 'maxFileSize' | 'maxScanSize'>;

/** Returns one sentence for each clamd size limit below MaximalIncomingMessageSize, none when they fit. */
export function checkClamdLimits(messageSize: number, limits: Partial<SizeLimits>, where: string): string[] {
  const problems: string[] = [];
  const checks: [keyof SizeLimits, string][] = [
    ['streamMaxLength', 'StreamMaxLength'],
    ['maxFileSize', 'MaxFileSize'],
    ['maxScanSize', 'MaxScanSize'],
  ];
  for (const [key, option] of checks) {
    const value = limits[key];
    if (value === undefined || value >= messageSize) continue;
    problems.push(
      `clamd ${where}: ${option} ${value} bytes is below MaximalIncomingMessageSize ${messageSize} bytes, so larger objects are not fully scanned and get av/error; raise ${option} in clamd.conf or lower MaximalIncomingMessageSize`,
    );
  }
  return problems;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 };

/** Reads StreamMaxLength, MaxFileSize and MaxScanSize from clamd.conf text, with clamd's defaults for missing ones (ClamAV 1.x). */
export function parseClamdConfLimits(text: string): SizeLimits & { sockets: string[] } {
  const values = new Map<string, string>();
  const sockets: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z]+)\s+(\S+)/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    values.set(match[1], match[2]);
    if (match[1] === 'LocalSocket') sockets.push(match[2]);
  }
  if (values.has('TCPSocket')) sockets.push(`${values.get('TCPAddr') ?? '127.0.0.1'}:${values.get('TCPSocket')}`);

  const size = (name: string, fallback: number): number => {
    const match = /^(\d+)([kKmMgG]?)$/.exec(values.get(name) ?? '');
    return match ? Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()] : fallback;
  };
  return {
    streamMaxLength: size('StreamMaxLength', 100 * 1024 * 1024),
    maxFileSize: size('MaxFileSize', 100 * 1024 * 1024),
    maxScanSize: size('MaxScanSize', 400 * 1024 * 1024),
    sockets,
  };
}

export interface LocalClamds {
  clamds: SupervisedClamd[];
  stop(): Promise<void>;
}

/**
 * Starts one private clamd per scan variant in use and restarts each one that exits until stop().
 * Stops the ones already started when one fails to start.
 */
export async function startLocalClamds(config: MailgwConfig, packageRoot: string, log: (line: string) => void): Promise<LocalClamds> {
  const databaseDir = localDatabaseDir(packageRoot);
  const limits = localClamdLimits(config);
  const variants = scanVariantsInUse(config);
  // A config where nothing is scanned still gets one clamd, so bases() and later reloads work.
  if (variants.length === 0) variants.push({ archives: true, mail: true });

  const clamds: SupervisedClamd[] = [];
  const stop = async (): Promise<void> => {
    for (const clamd of clamds.reverse()) await clamd.stop().catch(() => undefined);
  };
  try {
    for (const scan of variants) {
      const stateDir = path.join(localClamdRoot(config), variantName(scan));
      const name = `local clamd (${variantName(scan)})`;
      const start = () => startClamd({ stateDir, socket: { unix: localClamdSocket(config, scan) }, databaseDir, limits, scan });
      const clamd = await superviseClamd({ name, start, log });
      clamds.push(clamd);
      log(`${name} listening on ${clamd.current.address}, signatures from ${databaseDir}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  for (const problem of checkClamdLimits(config.limits.MaximalIncomingMessageSize, limits, 'private')) log(problem);
  return { clamds, stop };
}

/** Lines for the start log about an external clamd: limits that do not fit, and AVScan* keys it cannot honour. */
export function externalClamdNotices(config: MailgwConfig, systemConfPath = '/etc/clamav/clamd.conf'): string[] {
  if (scanVariantsInUse(config).length === 0) return [];
  const socket = externalSocketText(config);
  const notices: string[] = [];

  const clamdSocket = config.antivirus.ClamdSocket;
  if (clamdSocket.kind === 'unix' && !fs.existsSync(clamdSocket.path)) {
    notices.push(
      `no clamd socket at ${clamdSocket.path}, so messages with av scans get a temporary failure until a clamd listens there; set [mailgw.antivirus] ClamdSocket to your clamd's socket, or [mailgw.local] Clamd=true to run a private clamd`,
    );
  }

  let conf: ReturnType<typeof parseClamdConfLimits> | null;
  try {
    conf = parseClamdConfLimits(fs.readFileSync(systemConfPath, 'utf8'));
  } catch {
    conf = null;
  }
  if (conf && conf.sockets.includes(socket)) {
    notices.push(...checkClamdLimits(config.limits.MaximalIncomingMessageSize, conf, `at ${socket} (${systemConfPath})`));
  } else {
    notices.push(
      `clamd at ${socket}: its size limits are unknown to the gateway; make sure StreamMaxLength, MaxFileSize and MaxScanSize are at least MaximalIncomingMessageSize (${config.limits.MaximalIncomingMessageSize} bytes)`,
    );
  }

  const databaseDir = String(config.antivirus.ClamdDatabaseDirectory);
  if (readDatabaseFacts([databaseDir]).newestFile === null) {
    notices.push(`clamd at ${socket}: no signature files in ClamdDatabaseDirectory ${databaseDir}, so X-Anti-Virus has no database date and messages with av scans get a temporary failure; set ClamdDatabaseDirectory to the DatabaseDirectory of that clamd`);
  }

  const sections = [{ name: '[mailgw.policy]', settings: config.policy }, ...config.groups.map((group) => ({ name: `[mailgw.group:${group.name}]`, settings: group.settings }))];
  for (const { name, settings } of sections) {
    if (!settings.CheckAV) continue;
    const ignored = [!settings.AVScanArchives && 'AVScanArchives=false', !settings.AVScanMailBases && 'AVScanMailBases=false'].filter(Boolean);
    if (ignored.length > 0) {
      notices.push(`${name}: ${ignored.join(' and ')} not applied: the clamd at ${socket} uses its own ScanArchive and ScanMail settings; use [mailgw.local] Clamd=true to have them applied`);
    }
  }
  return notices;
}

export function externalSocketText(config: Pick<MailgwConfig, 'antivirus'>): string {
  const socket = config.antivirus.ClamdSocket;
  if (socket.kind === 'unix') return socket.path;
  return socket.host.includes(':') ? `[${socket.host}]:${socket.port}` : `${socket.host}:${socket.port}`;
}
