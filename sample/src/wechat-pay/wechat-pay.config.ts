import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { WechatPartnerPayModuleOptions } from 'nestjs-wechat-partner-pay';
import type { SampleSettings } from '../settings';
import type { EmbeddedSimulator } from './embedded-simulator';
import { liveWechatPayOptions } from './live-credentials';

/** Path of the notification route (NotifyController) and of the notify_url. */
export const NOTIFY_PATH = '/wechatpay/notify';
/** Path of the combine (cart) payment notification route, given as each combine order's notify_url. */
export const COMBINE_NOTIFY_PATH = '/wechatpay/combine-notify';
/** Path of the refund notification route, given as each refund's notify_url. */
export const REFUND_NOTIFY_PATH = '/wechatpay/refund-notify';

/**
 * Where WeChat Pay sends notifications: the simulator runs in this process and delivers over loopback, whatever
 * SAMPLE_PUBLIC_URL says (the module accepts http:// only for localhost); the real WeChat Pay needs the public URL.
 */
export function notifyBaseUrl(settings: SampleSettings, embedded: EmbeddedSimulator): string {
  return embedded.simulator ? `http://127.0.0.1:${settings.port}` : settings.publicUrl;
}

/**
 * `useFactory` of `WechatPartnerPayModule.forRootAsync()`: the simulator's options when it runs, otherwise the real
 * account from the environment. The rest of the app cannot tell the difference.
 */
export function wechatPayOptionsFactory(
  config: ConfigService,
  settings: SampleSettings,
  embedded: EmbeddedSimulator,
): WechatPartnerPayModuleOptions {
  if (embedded.simulator) {
    return embedded.simulator.moduleOptions({
      notifyUrl: `${notifyBaseUrl(settings, embedded)}${NOTIFY_PATH}`,
      clock: () => embedded.now(),
    });
  }
  const notifyUrl = `${notifyBaseUrl(settings, embedded)}${NOTIFY_PATH}`;
  if (!notifyUrl.startsWith('https://')) {
    new Logger('WechatPay').warn(
      `notify_url ${notifyUrl} is not reachable by WeChat Pay: set SAMPLE_PUBLIC_URL to this app's public https URL`,
    );
  }
  return { ...liveWechatPayOptions(config), notifyUrl };
}
