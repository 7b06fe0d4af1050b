import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { WechatPartnerPayModuleOptions } from 'nestjs-wechat-partner-pay';
import type { SampleSettings } from '../settings';
import type { EmbeddedSimulator } from './embedded-simulator';
import { liveWechatPayOptions } from './live-credentials';

/** Path of the notification route (NotifyController) and of the notify_url. */
export const NOTIFY_PATH = '/wechatpay/notify';

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
    // The simulator runs in this process and delivers notifications over loopback, whatever SAMPLE_PUBLIC_URL says;
    // the module accepts http:// only for localhost.
    return embedded.simulator.moduleOptions({ notifyUrl: `http://127.0.0.1:${settings.port}${NOTIFY_PATH}` });
  }
  const notifyUrl = `${settings.publicUrl}${NOTIFY_PATH}`;
  if (!notifyUrl.startsWith('https://')) {
    new Logger('WechatPay').warn(
      `notify_url ${notifyUrl} is not reachable by WeChat Pay: set SAMPLE_PUBLIC_URL to this app's public https URL`,
    );
  }
  return { ...liveWechatPayOptions(config), notifyUrl };
}
