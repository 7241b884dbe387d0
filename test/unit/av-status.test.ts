import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { displaySignature, statusFromSignature, statusFromVerdict } from '../../src/av/status';

describe('statusFromVerdict', () => {
  it('maps a clean verdict to av/clean', () => {
    assert.equal(statusFromVerdict({ result: 'clean' }), 'av/clean');
  });

  it('maps an object error to av/error', () => {
    assert.equal(statusFromVerdict({ result: 'error', message: 'INSTREAM size limit exceeded' }), 'av/error');
  });

  it('maps signatures by name', () => {
    const cases: Array<[string, string]> = [
      ['Win.Test.EICAR_HDB-1', 'av/infected'],
      ['MailGW.Test.EICAR.UNOFFICIAL', 'av/infected'],
      ['Eicar-Signature', 'av/infected'],
      ['Heuristics.Encrypted.Zip', 'av/protected'],
      ['Heuristics.Encrypted.RAR', 'av/protected'],
      ['Heuristics.Encrypted.PDF', 'av/protected'],
      ['Heuristics.Limits.Exceeded.MaxFileSize', 'av/error'],
      ['Heuristics.Limits.Exceeded.MaxScanTime', 'av/error'],
      ['Heuristics.Phishing.Email.SpoofedDomain', 'av/suspicious'],
      ['Heuristics.Broken.Executable', 'av/suspicious'],
      ['PUA.Win.Packer.Upx-1', 'av/suspicious'],
      ['PUA.MailGW.Test.Marker.UNOFFICIAL', 'av/suspicious'],
      ['Heuristics.Encrypted.Zip.UNOFFICIAL', 'av/protected'],
    ];
    for (const [signature, status] of cases) {
      assert.equal(statusFromVerdict({ result: 'found', signature }), status, signature);
    }
  });

  it('classifies by prefix only', () => {
    assert.equal(statusFromSignature('Win.Trojan.PUA.Heuristics-1'), 'av/infected');
    assert.equal(statusFromSignature('HeuristicsEncrypted'), 'av/infected');
  });
});

describe('displaySignature', () => {
  it('strips the .UNOFFICIAL suffix', () => {
    assert.equal(displaySignature('MailGW.Test.EICAR.UNOFFICIAL'), 'MailGW.Test.EICAR');
  });

  it('keeps official names unchanged', () => {
    assert.equal(displaySignature('Win.Test.EICAR_HDB-1'), 'Win.Test.EICAR_HDB-1');
  });

  it('strips only a trailing suffix', () => {
    assert.equal(displaySignature('X.UNOFFICIAL.Y'), 'X.UNOFFICIAL.Y');
  });
});
