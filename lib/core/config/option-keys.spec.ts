import { closestKey, editDistance, unknownOptionProblems } from './option-keys';

describe('unknownOptionProblems', () => {
  it('suggests the known key for a case or separator slip', () => {
    expect(unknownOptionProblems({ apiv3Key: 'x' })).toEqual([
      'unknown option "apiv3Key": did you mean apiV3Key?',
    ]);
    expect(unknownOptionProblems({ notify_url: 'x', SPMCHID: '1' })).toEqual([
      'unknown option "notify_url": did you mean notifyUrl?',
      'unknown option "SPMCHID": did you mean spMchid?',
    ]);
  });

  it('suggests by edit distance and by the names other SDKs use', () => {
    expect(unknownOptionProblems({ privteKey: 'x', mchid: '1', serialNo: 'A' })).toEqual([
      'unknown option "privteKey": did you mean privateKey?',
      'unknown option "mchid": did you mean spMchid?',
      'unknown option "serialNo": did you mean merchantSerialNo?',
    ]);
  });

  it('points a nested key given at the top level to where it belongs', () => {
    expect(unknownOptionProblems({ publicKeyId: 'x', attempts: 2 })).toEqual([
      'unknown option "publicKeyId": did you mean verification.publicKeyId? (it belongs inside verification)',
      'unknown option "attempts": did you mean retry.attempts? (it belongs inside retry)',
    ]);
  });

  it('checks retry, notifications and verifyOnBoot keys', () => {
    expect(
      unknownOptionProblems({
        retry: { attemps: 2 },
        notifications: { dedupeTTLMs: 1 },
        verifyOnBoot: { subMchId: '1' },
      }),
    ).toEqual([
      'unknown option "retry.attemps": did you mean retry.attempts?',
      'unknown option "notifications.dedupeTTLMs": did you mean notifications.dedupeTtlMs?',
      'unknown option "verifyOnBoot.subMchId": did you mean verifyOnBoot.subMchid?',
    ]);
  });

  it('checks verification keys against the mode', () => {
    expect(
      unknownOptionProblems({ verification: { mode: 'publicKey', publicKeyID: 'x', certificates: [] } }),
    ).toEqual([
      'unknown option "verification.publicKeyID": did you mean verification.publicKeyId?',
      "verification.certificates is not used in mode 'publicKey': it belongs to mode 'platformCertificate' or 'both'",
    ]);
    expect(
      unknownOptionProblems({ verification: { mode: 'both', prefer: 'publicKey', refreshIntervalMs: 1 } }),
    ).toEqual([]);
  });

  it('lists the known keys when nothing is close, and explains isGlobal', () => {
    const [problem] = unknownOptionProblems({ zzzzzzzz: 1 });
    expect(problem).toMatch(/^unknown option "zzzzzzzz": known options are spMchid, spAppid, /);
    expect(unknownOptionProblems({ isGlobal: true })[0]).toMatch(
      /isGlobal is an argument of forRoot\(\)\/forRootAsync\(\) itself/,
    );
  });

  it('accepts every documented key', () => {
    expect(
      unknownOptionProblems({
        spMchid: '1',
        spAppid: 'a',
        merchantSerialNo: 'A',
        privateKey: 'k',
        merchantCertificate: 'c',
        apiV3Key: 'k',
        verification: { mode: 'publicKey', publicKeyId: 'PUB_KEY_ID_1', publicKey: 'p' },
        notifyUrl: 'u',
        refundNotifyUrl: 'u',
        baseUrl: 'b',
        backupBaseUrl: 'b',
        timeoutMs: 1,
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, failover: true },
        clockSkewSeconds: 1,
        threadpoolSigning: true,
        clock: Date.now,
        notifications: { maxBodyBytes: 1, dedupeTtlMs: 1, dedupeLockMs: 1, routeCheck: false },
        verifyOnBoot: { subMchid: '1' },
      }),
    ).toEqual([]);
  });
});

describe('closestKey / editDistance', () => {
  it('measures edits and stops early', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });

  it('keeps short keys to one edit', () => {
    expect(closestKey('clok', ['clock'])).toBe('clock');
    expect(closestKey('cl', ['clock'])).toBeUndefined();
  });
});
