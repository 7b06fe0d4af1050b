import { WechatPayLifecycleConfigError } from './lifecycle.errors';
import { resolveLifecycleOptions, type WechatPayLifecycleModuleOptions } from './lifecycle.options';

function problems(o: unknown): readonly string[] {
  try {
    resolveLifecycleOptions(o as WechatPayLifecycleModuleOptions);
  } catch (e) {
    if (e instanceof WechatPayLifecycleConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('lifecycle options', () => {
  it('watch.auto and watch.storeTimeoutMs: defaults, and checked types', () => {
    const r = resolveLifecycleOptions({ scheduler: { type: 'in-process' } });
    expect(r.autoWatch).toBe(false);
    expect(r.storeTimeoutMs).toBe(5000);
    expect(resolveLifecycleOptions({ scheduler: { type: 'in-process' }, watch: { auto: true, storeTimeoutMs: 200 } })).toMatchObject({ autoWatch: true, storeTimeoutMs: 200 });
    expect(problems({ scheduler: { type: 'in-process' }, watch: { auto: 'yes', storeTimeoutMs: -1 } })).toEqual([
      'lifecycle watch.auto must be true or false',
      'lifecycle watch.storeTimeoutMs must be a number of ms >= 0',
    ]);
  });

  it('a misspelt key is named with the closest known one, in every section', () => {
    expect(
      problems({
        scheduler: { type: 'in-process' },
        watch: { autoWatch: true, schedule_ms: [1] },
        retry: { initalMs: 5 },
        reconcilation: {},
      }),
    ).toEqual([
      'unknown lifecycle option reconcilation (did you mean reconciliation?)',
      'unknown lifecycle option watch.autoWatch',
      'unknown lifecycle option watch.schedule_ms (did you mean watch.scheduleMs?)',
      'unknown lifecycle option retry.initalMs (did you mean retry.initialMs?)',
    ]);
  });

  it('scheduler keys: misspelt ones named, timings checked', () => {
    expect(problems({ scheduler: { type: 'bullmq', connection: {}, concurency: 5, bootTimeoutMs: 0 } })).toEqual([
      'unknown lifecycle option scheduler.concurency (did you mean scheduler.concurrency?)',
      'lifecycle scheduler.bootTimeoutMs must be a number > 0',
    ]);
  });
});
