/** The sample uploads a picture (a sub-merchant's logo for onboarding) and the simulator checked its signature and hash. */
import { type RunningSample, startSample } from './helpers/sample-app';

describe.each(['express', 'fastify'] as const)('sample media upload (%s)', (adapter) => {
  let s: RunningSample;
  beforeAll(async () => {
    s = await startSample(adapter);
  });
  afterAll(() => s?.close());

  it('uploads the shop logo and answers the media_id the simulator remembers', async () => {
    const res = await fetch(`${s.url}/api/media/shop-logo`, { method: 'POST' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { media_id: string; bytes: number };
    expect(body.media_id).toEqual(expect.any(String));
    const stored = s.sim.getMedia(body.media_id);
    expect(stored).toMatchObject({ kind: 'image', filename: 'shop-logo.png', size: body.bytes });
  });
});
