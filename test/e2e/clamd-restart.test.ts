// The private clamd of [mailgw.local] Clamd=true under supervision: after `kill -9` the launcher
// logs the exit and restarts clamd, mail is scanned again, and a deliberate stop restarts nothing.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { splitMessage } from '../../src/mime';
import { messageWith, splitRaw, localClamdPreamble } from '../helpers/av-messages';
import { eicar } from '../helpers/clamd';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { startSink, type Sink } from '../helpers/sink';
import { freePort, sendMail } from '../helpers/smtp';

// With the bundled database clamd starts in a few seconds; the first restart waits 1 s.
const RECOVERY_TIMEOUT_MS = 30_000;

function conf(sinkPort: number): string {
  return `
${localClamdPreamble(sinkPort)}
[mailgw.policy]
CheckSpam=false
BlockMessage=
ActionInfected=remove
`;
}

function headerValue(raw: Buffer, name: string): string | undefined {
  const header = splitRaw(raw).header.replace(/\r?\n[ \t]+/g, ' ');
  const prefix = `${name.toLowerCase()}:`;
  return header.split(/\r?\n/).find((line) => line.toLowerCase().startsWith(prefix))?.slice(prefix.length).trim();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('private clamd restart', () => {
  let gateway: TestGateway;
  let sink: Sink;
  let pidFile: string;

  before(async () => {
    sink = await startSink(await freePort());
    gateway = await startTestGateway({ conf: conf(sink.port) });
    pidFile = path.join(gateway.dir, 'var', 'clamd', 'archives-mail', 'clamd.pid');
  });

  after(async () => {
    await gateway?.stop();
    await sink?.close();
  });

  const readPid = (): number => Number(fs.readFileSync(pidFile, 'utf8').trim());

  // Sends until the gateway accepts the message (451 while clamd is down), then waits for delivery.
  async function deliverEicar(subject: string, timeoutMs: number): Promise<Buffer> {
    const message = messageWith(subject, [{ filename: 'eicar.com', contentType: 'application/octet-stream', content: eicar() }]);
    const deadline = Date.now() + timeoutMs;
    const replies: string[] = [];
    for (;;) {
      const result = await sendMail({ port: gateway.port, from: 'sender@outside.example', to: ['user@corp.example'], message });
      if (result.final?.code === 250) break;
      replies.push(`${result.final?.code} ${result.final?.enhanced ?? ''}`);
      assert.equal(result.final?.code, 451, `only 451 is expected while clamd is down: ${result.final?.text}`);
      if (Date.now() > deadline) throw new Error(`"${subject}" not accepted within ${timeoutMs} ms: ${replies.join(', ')}\n${gateway.output().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    let raw: Buffer | undefined;
    await waitUntil(() => {
      raw = sink.messages.find((m) => headerValue(m.raw, 'Subject') === subject)?.raw;
      return raw !== undefined;
    }, `"${subject}" not delivered`, RECOVERY_TIMEOUT_MS);
    return raw as Buffer;
  }

  function assertScanned(raw: Buffer): void {
    assert.ok(!splitMessage(raw).objects.some((o) => o.filename === 'eicar.com'), 'EICAR attachment removed');
    assert.match(headerValue(raw, 'X-Anti-Virus') ?? '', /, check: \d{8} infected$/);
  }

  it('scans before the crash', async () => {
    assertScanned(await deliverEicar('before crash', 5000));
  });

  it('logs kill -9 and restarts clamd', async () => {
    const crashed = readPid();
    assert.ok(isAlive(crashed), `clamd pid ${crashed} from ${pidFile} is running`);
    process.kill(crashed, 'SIGKILL');

    const exitLine = await gateway.waitForOutput(new RegExp(`local clamd \\(archives-mail\\) \\(pid ${crashed}\\) exited unexpectedly with signal SIGKILL[^\\n]*`), 10_000);
    assert.match(exitLine, /after \d+(\.\d+)? s\. clamd stderr: /);
    await gateway.waitForOutput(/local clamd \(archives-mail\): restart attempt 1 in 1 s/, 5000);
    // The log tail follows the exit line and ends with the scan of the first test.
    assert.match(gateway.output(), /last lines of \S+\/var\/clamd\/archives-mail\/clamd\.log:\n[^\n]*\n[\s\S]*instream\(local\): MailGW\.Test\.EICAR\S* FOUND\n[^\n]*restart attempt 1/);

    const restarted = await gateway.waitForOutput(/local clamd \(archives-mail\) restarted after 1 attempt: pid (\d+), listening on \S+clamd\.sock/, RECOVERY_TIMEOUT_MS);
    const newPid = Number(/pid (\d+)/.exec(restarted)?.[1]);
    assert.notEqual(newPid, crashed);
    assert.ok(isAlive(newPid), `restarted clamd pid ${newPid} is running`);
    await waitUntil(() => readPid() === newPid, `pid file not rewritten with ${newPid}`, 5000);
  });

  it('scans and delivers again', async () => {
    assertScanned(await deliverEicar('after restart', RECOVERY_TIMEOUT_MS));
  });

  it('deliberate stop does not restart', async () => {
    const pid = readPid();
    await gateway.stop();

    await waitUntil(() => !isAlive(pid), `clamd pid ${pid} still running after the gateway stopped`, 15_000);
    const exits = gateway.output().match(/exited unexpectedly/g) ?? [];
    assert.equal(exits.length, 1, 'only the killed clamd is reported');
    assert.doesNotMatch(gateway.output(), /restart attempt 2/);
  });
});
