import type { ConfigService } from '@nestjs/config';
import { isAbsolute, resolve } from 'node:path';
import type { SimulatorOptions } from 'nestjs-wechat-partner-pay/testing';
import { DEFAULT_DB_FILE } from './paths';

/** What tests (or another entry point) may set directly; everything else comes from the environment. */
export interface SampleOverrides {
  port?: number;
  host?: string;
  /** SQLite file. */
  dbFile?: string;
  /** Base URL browsers (and, live, WeChat Pay) use to reach this app. */
  publicUrl?: string;
  /** Read `sample/.env`. Default true; tests turn it off so that a developer's real credentials are never used. */
  envFile?: boolean;
  /** Use the embedded simulator even when credentials are configured. */
  forceSimulator?: boolean;
  /** Options of the embedded simulator (port, clock, notification timing...). */
  simulator?: SimulatorOptions;
  /**
   * Simulator mode: on the first start, pay and refund a few orders of the latest billed day, so the bill card has
   * rows at once. Default true; the test helper turns it off unless a test asks for it.
   */
  demoHistory?: boolean;
  /** The platform's commission in percent of each paid order (SAMPLE_COMMISSION_PERCENT, default 5). */
  commissionPercent?: number;
  /**
   * When the order watch queries an unpaid order, in ms after it was created (SAMPLE_WATCH_SCHEDULE). Default: in
   * simulator mode +3 s, +10 s, +30 s, +2 min, so that a lost notification is rescued while you look; live, the
   * lifecycle module's default (+1, +3, +10, +30 min).
   */
  watchScheduleMs?: number[];
}

/** Injection token of the overrides given to `AppModule.register()`. */
export const SAMPLE_OVERRIDES = Symbol('sample:overrides');

/** The sample's own settings, resolved once at boot. */
export class SampleSettings {
  constructor(
    readonly port: number,
    readonly host: string,
    readonly dbFile: string,
    readonly publicUrl: string,
    readonly forceSimulator: boolean,
    readonly simulator: SimulatorOptions,
    readonly demoHistory: boolean,
    /** Percent of each paid order the platform takes by profit sharing. */
    readonly commissionPercent: number = 5,
    /** The platform's full merchant name (商户全称), needed once to add itself as a receiver. */
    readonly platformName: string = '示例电商平台',
    /** The watch schedule set by SAMPLE_WATCH_SCHEDULE (or a test); undefined: the default of the mode. */
    readonly watchScheduleMs?: number[],
  ) {}

  /** Hour (Beijing) from which WeChat Pay has the bill of the day before; the simulator may be told otherwise. */
  get billReadyHour(): number {
    return this.simulator.billReadyHour ?? 10;
  }

  static resolve(config: ConfigService, o: SampleOverrides): SampleSettings {
    // An empty line copied from .env.example means "not set".
    const env = (name: string): string | undefined => config.get<string>(name)?.trim() || undefined;
    const port = o.port ?? parsePort(env('PORT'));
    const host = o.host ?? env('HOST') ?? '127.0.0.1';
    const dbFile = o.dbFile ?? env('SAMPLE_DB_FILE') ?? DEFAULT_DB_FILE;
    // A wildcard listen address is not something a browser can open: show the loopback address instead.
    const shownHost =
      host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const publicUrl = (o.publicUrl ?? env('SAMPLE_PUBLIC_URL') ?? `http://${shownHost}:${port}`).replace(
      /\/+$/,
      '',
    );
    const simulatorPort = o.simulator?.port ?? parsePort(env('SIMULATOR_PORT'), 0);
    return new SampleSettings(
      port,
      host,
      isAbsolute(dbFile) ? dbFile : resolve(process.cwd(), dbFile),
      publicUrl,
      o.forceSimulator ?? false,
      { ...o.simulator, port: simulatorPort },
      o.demoHistory ?? true,
      o.commissionPercent ?? parsePercent(env('SAMPLE_COMMISSION_PERCENT')),
      env('SAMPLE_PLATFORM_NAME') ?? '示例电商平台',
      o.watchScheduleMs ?? parseSchedule(env('SAMPLE_WATCH_SCHEDULE')),
    );
  }
}

/**
 * The port must be known before the app listens: in simulator mode it is part of the notify_url given to the
 * simulator when the WeChat Pay module is configured, so "0 = any free port" is not an option for the app.
 */
function parsePort(raw: string | undefined, fallback = 3000): number {
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || (port === 0 && fallback !== 0)) {
    throw new Error(`Invalid port "${raw}": expected an integer between 1 and 65535`);
  }
  return port;
}

/** WeChat Pay lets all splits of an order take at most 30 % (the usual max ratio); 0 would be no commission at all. */
function parsePercent(raw: string | undefined): number {
  if (raw === undefined) return 5;
  const percent = Number(raw);
  if (!Number.isFinite(percent) || percent <= 0 || percent > 30) {
    throw new Error(`Invalid SAMPLE_COMMISSION_PERCENT "${raw}": expected a number above 0 and at most 30`);
  }
  return percent;
}

/**
 * SAMPLE_WATCH_SCHEDULE: increasing offsets after the order was created, comma-separated, each a number with the unit
 * ms, s or min (`3s,10s,30s,2min`). Checked at boot, so a typo never silently means "never query".
 */
export function parseSchedule(raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const unit: Record<string, number> = { ms: 1, s: 1000, min: 60_000 };
  const offsets = raw.split(',').map((part) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min)\s*$/.exec(part);
    return m ? Math.round(Number(m[1]) * unit[m[2]]) : NaN;
  });
  if (offsets.some((ms, i) => !Number.isFinite(ms) || (i > 0 && ms < offsets[i - 1]))) {
    throw new Error(
      `Invalid SAMPLE_WATCH_SCHEDULE "${raw}": expected increasing durations such as 3s,10s,30s,2min (units ms, s, min)`,
    );
  }
  return offsets;
}
