import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type SimulatorState, WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import type { SampleSettings } from '../settings';
import { hasLiveCredentials } from './live-credentials';

/**
 * The in-process WeChat Pay simulator, started only when no credentials are configured, so that `npm run sample`
 * works offline with nothing to set up. It is a provider so that Nest closes it with the app.
 *
 * Its orders are kept next to the shop's database: after a restart the shop's orders still exist at "WeChat Pay"
 * (query and close keep working), and yesterday's payments make up today's trade bill.
 */
export class EmbeddedSimulator implements OnApplicationShutdown {
  private constructor(
    /** Undefined in live mode. */
    readonly simulator: WechatPaySimulator | undefined,
    /** The WeChat Pay product the shop runs as (live: WECHATPAY_PRODUCT, checked when the module is configured). */
    readonly product: string | undefined,
    /** The platform's own merchant id (服务商 / 电商平台 mchid): the receiver of its commission. */
    readonly spMchid: string | undefined,
  ) {}

  static async start(config: ConfigService, settings: SampleSettings): Promise<EmbeddedSimulator> {
    if (hasLiveCredentials(config) && !settings.forceSimulator)
      return new EmbeddedSimulator(
        undefined,
        config.get<string>('WECHATPAY_PRODUCT')?.trim(),
        config.get<string>('WECHATPAY_SP_MCHID')?.trim(),
      );
    const logger = new Logger('WechatPay');
    const stateFile = join(dirname(settings.dbFile), 'simulator-state.json');
    let simulator: WechatPaySimulator | undefined = undefined;
    simulator = await WechatPaySimulator.start({
      logger: (line) => logger.debug(`simulator: ${line}`),
      // Called after each change; `simulator` is set by then (changes come with requests, after start).
      onStateChange: () => simulator && saveState(stateFile, simulator.exportState()),
      // A refund stays PROCESSING for a moment, as at WeChat Pay, so the cashier can show it turn SUCCESS live.
      refundDelayMs: 2000,
      // The shop is a 平台收付通 (电商平台) platform: its refunds go to /v3/ecommerce/refunds/..., and
      // moduleOptions() gives the module the same product.
      product: 'ecommerce',
      // An order can be split once it is settled: at WeChat Pay about a minute after payment at the earliest; here
      // 15 s, so the cashier shows "not settled yet, try later" and then the commission taken.
      profitSharing: { settlementDelayMs: 15_000 },
      ...settings.simulator,
    });
    if (existsSync(stateFile))
      simulator.importState(JSON.parse(readFileSync(stateFile, 'utf8')) as SimulatorState);
    logger.log(`No WeChat Pay credentials configured: using the embedded simulator at ${simulator.baseUrl}`);
    const options = simulator.moduleOptions();
    return new EmbeddedSimulator(simulator, options.product, options.spMchid);
  }

  /**
   * The shop's clock (ms). In simulator mode it is the simulator's, and the WeChat Pay module is given the same one:
   * the shop, its WeChat Pay and the signatures between them always agree on the time, also while the demo history
   * of yesterday is being made.
   */
  now(): number {
    return this.simulator ? this.simulator.now() : Date.now();
  }

  /** 'simulator' or 'live': shown in the cashier so nobody mistakes one for the other. */
  get mode(): 'simulator' | 'live' {
    return this.simulator ? 'simulator' : 'live';
  }

  async onApplicationShutdown(): Promise<void> {
    await this.simulator?.close();
  }
}

/** Written beside and renamed, so a crash never leaves half a file to load at the next start. */
function saveState(file: string, state: SimulatorState): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}
