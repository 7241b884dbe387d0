import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { bundledDatabaseDir, clamdAddress, renderClamdConf } from '../../src/av/clamd-service';

const base = { stateDir: '/var/lib/mailgw/clamd', databaseDir: '/opt/mailgw/clamav/db' };

describe('renderClamdConf', () => {
  it('renders a TCP socket on the given address', () => {
    const conf = renderClamdConf({ ...base, socket: { tcp: { host: '127.0.0.1', port: 3399 } } });
    assert.match(conf, /^TCPSocket 3399$/m);
    assert.match(conf, /^TCPAddr 127\.0\.0\.1$/m);
    assert.doesNotMatch(conf, /^LocalSocket/m);
  });

  it('renders a Unix socket', () => {
    const conf = renderClamdConf({ ...base, socket: { unix: '/run/mailgw/clamd.sock' } });
    assert.match(conf, /^LocalSocket \/run\/mailgw\/clamd\.sock$/m);
    assert.doesNotMatch(conf, /^TCPSocket/m);
  });

  it('puts state files under stateDir', () => {
    const conf = renderClamdConf({ ...base, socket: { unix: '/run/mailgw/clamd.sock' } });
    assert.match(conf, /^PidFile \/var\/lib\/mailgw\/clamd\/clamd\.pid$/m);
    assert.match(conf, /^LogFile \/var\/lib\/mailgw\/clamd\/clamd\.log$/m);
    assert.match(conf, /^TemporaryDirectory \/var\/lib\/mailgw\/clamd\/tmp$/m);
    assert.match(conf, /^DatabaseDirectory \/opt\/mailgw\/clamav\/db$/m);
  });

  it('writes the fixed options', () => {
    const conf = renderClamdConf({ ...base, socket: { unix: '/run/mailgw/clamd.sock' } });
    for (const line of ['Foreground yes', 'Bytecode no', 'ScanArchive yes', 'ScanMail yes', 'AlertEncrypted yes', 'AlertExceedsMax yes']) {
      assert.match(conf, new RegExp(`^${line}$`, 'm'), line);
    }
    assert.doesNotMatch(conf, /@[A-Z_]+@/, 'no placeholder left');
  });

  it('writes limits in bytes', () => {
    const conf = renderClamdConf({
      ...base,
      socket: { unix: '/run/mailgw/clamd.sock' },
      limits: { streamMaxLength: 1000, maxScanSize: 2000, maxFileSize: 3000, maxRecursion: 4, maxFiles: 5, maxScanTimeMs: 6000, maxThreads: 7 },
    });
    for (const line of ['StreamMaxLength 1000', 'MaxScanSize 2000', 'MaxFileSize 3000', 'MaxRecursion 4', 'MaxFiles 5', 'MaxScanTime 6000', 'MaxThreads 7']) {
      assert.match(conf, new RegExp(`^${line}$`, 'm'), line);
    }
  });

  it('rejects bad values', () => {
    const socket = { unix: '/run/mailgw/clamd.sock' };
    assert.throws(() => renderClamdConf({ ...base, socket, limits: { maxFiles: 0 } }), /invalid clamd limit maxFiles=0/);
    assert.throws(() => renderClamdConf({ ...base, socket, limits: { maxScanSize: 1.5 } }), /maxScanSize/);
    assert.throws(() => renderClamdConf({ ...base, stateDir: '/tmp/with space', socket }), /white space/);
    assert.throws(() => renderClamdConf({ ...base, socket: { tcp: { host: 'localhost', port: 3310 } } }), /expected an IP address/);
    assert.throws(() => renderClamdConf({ ...base, socket: { tcp: { host: '127.0.0.1', port: 0 } } }), /invalid clamd TCP port/);
    assert.throws(() => renderClamdConf({ ...base, socket: { unix: `/tmp/${'x'.repeat(120)}` } }), /longer than 107 bytes/);
  });

  it('rejects an unknown placeholder', () => {
    assert.throws(
      () => renderClamdConf({ ...base, socket: { unix: '/s' }, template: 'Foo @BAR@\n' }),
      /unknown placeholder @BAR@/,
    );
  });
});

describe('bundled clamav folder', () => {
  it('holds the signature files', () => {
    const files = fs.readdirSync(bundledDatabaseDir());
    assert.ok(files.includes('mailgw-test.ndb'));
    assert.ok(files.includes('mailgw-test.hdb'));
    assert.ok(fs.existsSync(path.join(bundledDatabaseDir(), '..', 'clamd.conf.template')));
  });
});

describe('clamdAddress', () => {
  it('formats each socket kind', () => {
    assert.equal(clamdAddress({ tcp: { host: '127.0.0.1', port: 3310 } }), '127.0.0.1:3310');
    assert.equal(clamdAddress({ tcp: { host: '::1', port: 3310 } }), '[::1]:3310');
    assert.equal(clamdAddress({ unix: '/run/clamd.sock' }), '/run/clamd.sock');
  });
});
