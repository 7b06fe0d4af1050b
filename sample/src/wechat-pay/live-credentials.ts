import type { ConfigService } from '@nestjs/config';
import { readFileSync } from 'node:fs';
import type { WechatPartnerPayModuleOptions, WechatPayProduct } from 'nestjs-wechat-partner-pay';

/** Plain values of a real service provider account. */
const VALUES = [
  'WECHATPAY_SP_MCHID',
  'WECHATPAY_SP_APPID',
  'WECHATPAY_SERIAL_NO',
  'WECHATPAY_API_V3_KEY',
  'WECHATPAY_PUBLIC_KEY_ID',
] as const;
/** Key material: the PEM itself, or `<NAME>_FILE` with a path to it. */
const PEMS = ['WECHATPAY_PRIVATE_KEY', 'WECHATPAY_PUBLIC_KEY'] as const;

/** Whether any WeChat Pay credential is configured (then all of them must be: no silent fallback to the simulator). */
export function hasLiveCredentials(config: ConfigService): boolean {
  return [...VALUES, ...PEMS, ...PEMS.map((p) => `${p}_FILE`)].some((name) =>
    nonEmpty(config.get<string>(name)),
  );
}

/**
 * Module options for the real WeChat Pay from the environment, in public key mode (微信支付公钥), the only mode new
 * merchants get. Every missing variable is named in one error, so a half-filled `.env` fails at boot, loudly.
 */
export function liveWechatPayOptions(config: ConfigService): WechatPartnerPayModuleOptions {
  const missing: string[] = [];
  const value = (name: string): string => {
    const v = config.get<string>(name);
    if (!nonEmpty(v)) missing.push(name);
    return v?.trim() ?? '';
  };
  const pem = (name: string): string => {
    const file = config.get<string>(`${name}_FILE`);
    if (nonEmpty(file)) return readFileSync(file.trim(), 'utf8');
    const inline = config.get<string>(name);
    if (!nonEmpty(inline)) missing.push(`${name} (or ${name}_FILE)`);
    // One-line .env values carry PEM line breaks as "\n".
    return inline?.replace(/\\n/g, '\n') ?? '';
  };
  const options: WechatPartnerPayModuleOptions = {
    product: product(config, missing),
    spMchid: value('WECHATPAY_SP_MCHID'),
    spAppid: value('WECHATPAY_SP_APPID'),
    merchantSerialNo: value('WECHATPAY_SERIAL_NO'),
    privateKey: pem('WECHATPAY_PRIVATE_KEY'),
    apiV3Key: value('WECHATPAY_API_V3_KEY'),
    verification: {
      mode: 'publicKey',
      publicKeyId: value('WECHATPAY_PUBLIC_KEY_ID'),
      publicKey: pem('WECHATPAY_PUBLIC_KEY'),
    },
  };
  const baseUrl = config.get<string>('WECHATPAY_BASE_URL');
  if (nonEmpty(baseUrl)) options.baseUrl = baseUrl.trim();
  if (missing.length) {
    throw new Error(
      `WeChat Pay credentials are incomplete; set all of them in sample/.env (see .env.example), or none to use the embedded simulator. Missing: ${missing.join(', ')}`,
    );
  }
  return options;
}

/** WECHATPAY_PRODUCT: which WeChat Pay product the account is; there is no default, as each refuses the other's calls. */
function product(config: ConfigService, missing: string[]): WechatPayProduct {
  const raw = config.get<string>('WECHATPAY_PRODUCT')?.trim();
  if (raw === 'ecommerce' || raw === 'partner') return raw;
  if (!raw) {
    missing.push("WECHATPAY_PRODUCT ('ecommerce' for 电商平台 / 平台收付通, 'partner' for 普通服务商)");
    // Never used: the missing variable fails the boot below, with the others.
    return 'ecommerce';
  }
  throw new Error(
    `WECHATPAY_PRODUCT is "${raw}": set 'ecommerce' (电商平台 / 平台收付通) or 'partner' (普通服务商)`,
  );
}

function nonEmpty(v: string | undefined): v is string {
  return typeof v === 'string' && v.trim() !== '';
}
