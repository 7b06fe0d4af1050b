import { InMemoryNotificationDedupeStore } from './in-memory-notification-dedupe.store';

describe('InMemoryNotificationDedupeStore', () => {
  let now = 1_700_000_000_000;
  const store = new InMemoryNotificationDedupeStore(() => now);

  it('claims, reports in-progress, completes only with the owner token, then remembers for the TTL', async () => {
    const a = await store.claim('k1', 1000);
    expect(a.status).toBe('claimed');
    const token = (a as { token: string }).token;
    expect(await store.claim('k1', 1000)).toEqual({ status: 'in-progress' });
    expect(await store.complete('k1', 'other', 10_000)).toBe(false);
    expect(await store.complete('k1', token, 10_000)).toBe(true);
    expect(await store.claim('k1', 1000)).toEqual({ status: 'completed' });
    expect(await store.release('k1', token)).toBe(false);
    now += 10_001;
    expect((await store.claim('k1', 1000)).status).toBe('claimed');
  });

  it('releases for a retry, and lets an expired claim be taken over without letting its old owner complete', async () => {
    const a = (await store.claim('k2', 1000)) as { status: 'claimed'; token: string };
    expect(await store.release('k2', a.token)).toBe(true);
    const b = (await store.claim('k2', 1000)) as { status: 'claimed'; token: string };
    now += 1001;
    const c = await store.claim('k2', 1000);
    expect(c.status).toBe('claimed');
    expect(await store.complete('k2', b.token, 10_000)).toBe(false);
  });

  it('sweeps expired entries', async () => {
    const s = new InMemoryNotificationDedupeStore(() => now);
    for (let i = 0; i < 10; i++) await s.claim(`s${i}`, 1000);
    expect(s.size).toBe(10);
    now += 120_000;
    await s.claim('fresh', 1000);
    expect(s.size).toBe(1);
  });
});
