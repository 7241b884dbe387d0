// The classic peer: Postfix + amavisd-new + clamd from Debian packages, on loopback ports only.
// A private Postfix instance keeps its config, queue and data directories in the row's scratch
// directory and runs with `postfix -c DIR start`. It accepts on one loopback port and hands every
// message to a private amavisd-new (`amavisd -c FILE`) through content_filter. amavisd-new sends the
// result back to a second Postfix smtpd, which relays it to the sink. amavisd-new scans each MIME part
// with the benchmark's clamd (INSTREAM over TCP) and runs SpamAssassin with the rules Debian
// ships, local tests only. stop() ends both daemons through their own pid files and waits until
// their processes are gone; nothing listens on port 25 at any time.

import { execFile } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../../test/helpers/smtp'
import { waitForListen } from '../lib/postfix-tools'
import { processTree } from '../lib/procs'
import type { Row, SharedServices } from './types'

const execFileAsync = promisify(execFile)

const POSTFIX = '/usr/sbin/postfix'
const AMAVISD = '/usr/sbin/amavisd'
/** Number of amavisd-new child processes, which is also Postfix's concurrency towards amavisd-new. */
const AMAVIS_SERVERS = 4

interface Ports {
  smtpd: number
  reinject: number
  amavis: number
  sink: number
}

function mainCf(dir: string, ports: Ports): string {
  return `# Written by bench/rows/postfix-amavis.ts for one benchmark row.
compatibility_level = 3.6
config_directory = ${dir}/postfix
queue_directory = ${dir}/queue
data_directory = ${dir}/data
meta_directory = /etc/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = ${dir}/postfix.log
maillog_file_prefixes = ${dir}
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = peer.bench.example
mydomain = bench.example
myorigin = $myhostname
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
local_transport = error:local delivery is off in this benchmark instance
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:${ports.sink}
content_filter = amavis:[127.0.0.1]:${ports.amavis}
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no
# A delivery deferred while a daemon starts is retried within seconds, not minutes.
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 10s
`
}

function masterCf(ports: Ports): string {
  return `# Written by bench/rows/postfix-amavis.ts: loopback listeners only, nothing on port 25.
127.0.0.1:${ports.smtpd} inet n - n - - smtpd
127.0.0.1:${ports.reinject} inet n - n - - smtpd
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters,no_address_mappings
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
amavis unix - - n - ${AMAVIS_SERVERS} smtp
  -o smtp_data_done_timeout=1200
  -o smtp_send_xforward_command=yes
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
`
}

function amavisConf(dir: string, ports: Ports, clamd: string): string {
  const [clamdHost, clamdPort] = [clamd.slice(0, clamd.lastIndexOf(':')), clamd.slice(clamd.lastIndexOf(':') + 1)]
  return `# Written by bench/rows/postfix-amavis.ts for one benchmark row (perl, read by amavisd -c).
use strict;
$MYHOME = '${dir}/amavis';
$TEMPBASE = "$MYHOME/tmp";
$db_home = "$MYHOME/db";
$helpers_home = "$MYHOME/var";
$QUARANTINEDIR = "$MYHOME/quarantine";
$pid_file = "$MYHOME/amavisd.pid";
$lock_file = "$MYHOME/amavisd.lock";
$daemon_user = 'amavis';
$daemon_group = 'amavis';
$myhostname = 'peer.bench.example';
$mydomain = 'bench.example';
@local_domains_maps = (['.bench.example']);
@mynetworks = qw(127.0.0.0/8);

$max_servers = ${AMAVIS_SERVERS};
$inet_socket_bind = '127.0.0.1';
$inet_socket_port = ${ports.amavis};
@inet_acl = qw(127.0.0.1);
$unix_socketname = undef;
$forward_method = 'smtp:[127.0.0.1]:${ports.reinject}';
$notify_method = $forward_method;

$do_syslog = 0;
$LOGFILE = "$MYHOME/amavisd.log";
$log_level = 0;
$enable_db = 0;
$nanny_details_level = 0;
$enable_dkim_verification = 0;
$enable_dkim_signing = 0;
$virus_admin = undef;
$spam_admin = undef;
$warnbadhsender = 0;

# Every message goes through both the virus and the spam check, and passes unless infected.
@bypass_virus_checks_maps = (0);
@bypass_spam_checks_maps = (0);
$final_virus_destiny = D_DISCARD;
$final_banned_destiny = D_PASS;
$final_spam_destiny = D_PASS;
$final_bad_header_destiny = D_PASS;
$sa_tag_level_deflt = -9999;
$sa_tag2_level_deflt = 6.31;
$sa_kill_level_deflt = 9999;
$sa_local_tests_only = 1;
$sa_spam_subject_tag = undef;

# Each extracted part goes to clamd by INSTREAM over TCP, so clamd needs no access to amavis's files.
@av_scanners = (
  ['ClamAV-clamd', \\&ask_daemon, ['{}/*', 'clamd:[${clamdHost}]:${clamdPort}'],
    qr/\\bOK$/m, qr/\\bFOUND$/m, qr/^.*?: (?!Infected Archive)(.*) FOUND$/m ],
);
@av_scanners_backup = ();
1;
`
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (alive(pid)) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 100))
  }
  return true
}

async function run(cmd: string, args: string[], what: string): Promise<void> {
  try {
    await execFileAsync(cmd, args, { timeout: 60000 })
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${what} failed: ${(e.stderr || e.stdout || e.message).trim()}`, { cause: err })
  }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-10).join('\n') : `(no ${file})`
}

export const postfixAmavisRow: Row = {
  id: 'postfix-amavis',
  title: 'Postfix + amavisd-new + clamd',
  usesWorkers: false,
  copies: 1,
  loadFactor: 0.2,

  async unavailable(services: SharedServices) {
    const missing = [POSTFIX, AMAVISD, '/usr/bin/spamassassin'].filter((p) => !existsSync(p))
    if (missing.length > 0) return `not installed: ${missing.join(', ')} (run bench/install.sh)`
    if (!services.clamd) return 'clamd could not be started (see the note at the top of the output)'
    if (process.getuid?.() !== 0) return 'needs root: Postfix and amavisd-new start as root and switch to their own users'
    return null
  },

  async start(services) {
    const clamd = services.clamd
    if (!clamd) throw new Error('the Postfix + amavisd-new row needs the benchmark clamd')
    const dir = path.join(services.workDir, 'postfix-amavis')
    const ports: Ports = { smtpd: await freePort(), reinject: await freePort(), amavis: await freePort(), sink: services.sinkPort }
    for (const sub of ['postfix', 'queue', 'data', 'amavis', 'amavis/tmp', 'amavis/db', 'amavis/var', 'amavis/quarantine']) {
      mkdirSync(path.join(dir, sub), { recursive: true })
    }
    // mkdtemp makes the scratch directories private to root, so they are opened for traversal:
    // the postfix and amavis users need to reach their own directories below them.
    for (const d of [path.dirname(services.workDir), services.workDir, dir]) chmodSync(d, 0o711)
    await run('chown', ['-R', 'amavis:amavis', path.join(dir, 'amavis')], 'giving the amavis user its directory')
    await run('chown', ['postfix:postfix', path.join(dir, 'data')], 'giving the postfix user its data directory')
    writeFileSync(path.join(dir, 'postfix', 'main.cf'), mainCf(dir, ports))
    writeFileSync(path.join(dir, 'postfix', 'master.cf'), masterCf(ports))
    const amavisFile = path.join(dir, 'amavisd.conf')
    writeFileSync(amavisFile, amavisConf(dir, ports, clamd.address), { mode: 0o644 })

    const amavisPidFile = path.join(dir, 'amavis', 'amavisd.pid')
    const masterPidFile = path.join(dir, 'queue', 'pid', 'master.pid')
    const postfixDir = path.join(dir, 'postfix')

    const stop = async () => {
      const master = readPid(masterPidFile)
      if (master && alive(master)) {
        await run(POSTFIX, ['-c', postfixDir, 'stop'], 'postfix stop').catch(() => undefined)
        if (!(await waitForExit(master, 15000))) process.kill(master, 'SIGKILL')
      }
      const amavis = readPid(amavisPidFile)
      if (amavis && alive(amavis)) {
        const tree = processTree([amavis]).map((p) => p.pid)
        process.kill(amavis, 'SIGTERM')
        if (!(await waitForExit(amavis, 15000))) for (const pid of tree) if (alive(pid)) process.kill(pid, 'SIGKILL')
        for (const pid of tree) await waitForExit(pid, 5000)
      }
    }

    try {
      // amavisd-new first: it loads SpamAssassin's rules for several seconds, and Postfix would
      // otherwise defer the first messages to it.
      await run(AMAVISD, ['-c', amavisFile], 'amavisd-new start')
      await waitForListen(ports.amavis, 120000).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; amavisd log:\n${tail(path.join(dir, 'amavis', 'amavisd.log'))}`)
      })
      await run(POSTFIX, ['-c', postfixDir, 'check'], 'postfix check')
      await run(POSTFIX, ['-c', postfixDir, 'start'], 'postfix start')
      await waitForListen(ports.smtpd, 30000)
      await waitForListen(ports.reinject, 30000)
    } catch (err) {
      await stop()
      throw new Error(`${err instanceof Error ? err.message : String(err)}; postfix log:\n${tail(path.join(dir, 'postfix.log'))}`, { cause: err })
    }

    const treeOf = (file: string) => () => {
      const pid = readPid(file)
      return pid ? [pid] : []
    }
    return {
      port: ports.smtpd,
      components: [
        { name: 'postfix', pids: treeOf(masterPidFile) },
        { name: 'amavisd', pids: treeOf(amavisPidFile) },
        { name: 'clamd', pids: () => [clamd.pid] },
      ],
      stop,
    }
  },
}
