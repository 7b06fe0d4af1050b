import type { WechatPayLifecycleModuleOptions } from 'nestjs-wechat-partner-pay/lifecycle';
import type { SampleSettings } from '../settings';
import type { EmbeddedSimulator } from './embedded-simulator';

/** The lifecycle module's default watch schedule (+1, +3, +10, +30 min, docs/lifecycle.md), shown by the cashier live. */
export const LIVE_WATCH_SCHEDULE_MS: readonly number[] = [60_000, 180_000, 600_000, 1_800_000];

/** Simulator mode: a lost notification is rescued while you look (+3 s, +10 s, +30 s, +2 min). */
export const SIMULATOR_WATCH_SCHEDULE_MS: readonly number[] = [3_000, 10_000, 30_000, 120_000];

/**
 * `useFactory` of `WechatPayLifecycleModule.forRootAsync()`. The in-process scheduler needs no Redis and is enough
 * for the one command of this sample, but it is single-instance only: its watches live in this process (a restart
 * forgets them) and two instances would both run them. Production uses `{ type: 'bullmq', connection, prefix }`
 * (see docs/lifecycle.md). No `reconciliation.source`: the sample reconciles when its button is pressed
 * (`ReconciliationController`), with its orders repository as the source of that call.
 */
export function lifecycleOptionsFactory(
  settings: SampleSettings,
  embedded: EmbeddedSimulator,
): WechatPayLifecycleModuleOptions {
  const scheduleMs = watchSchedule(settings, embedded);
  return {
    scheduler: { type: 'in-process' },
    // The shop's clock: in simulator mode the simulator's, which the WeChat Pay module and time_expire use too.
    clock: () => embedded.now(),
    // Every order and cart the shop creates through the WeChat Pay services is watched, inside the prepay call.
    watch: { auto: true, ...(scheduleMs ? { scheduleMs: [...scheduleMs] } : {}) },
  };
}

/** The schedule of the watch: SAMPLE_WATCH_SCHEDULE, else the short one in simulator mode, else the module's default. */
export function watchSchedule(
  settings: SampleSettings,
  embedded: EmbeddedSimulator,
): readonly number[] | undefined {
  return settings.watchScheduleMs ?? (embedded.simulator ? SIMULATOR_WATCH_SCHEDULE_MS : undefined);
}
