/**
 * What the payer's side needs after an order call: signed invoke parameters (JSAPI / mini-program, App), the H5
 * redirect URL, and the Native QR code. Shared by single partner orders and combine orders, whose invoke step is the
 * same ("调起方式也完全一致").
 */
import * as QRCode from 'qrcode';
import { joinSignedLines } from '../core/crypto/canonical-message';
import { generateNonce } from '../core/crypto/nonce';
import { WechatPayValidationError, type WechatPayFieldProblem } from '../core/errors/wechat-pay.errors';
import type { AppPayParams, JsapiPayParams } from './dto/partner-prepay.dto';

/** Options of `renderNativeQrCode`. */
export interface NativeQrCodeOptions {
  format: 'svg' | 'png' | 'dataUrl';
  /** Width in pixels. Default 256. */
  size?: number;
  /** Quiet zone in modules. Default 2. */
  margin?: number;
}

/** Overrides for invoke parameters. */
export interface PayParamsOptions {
  /** The AppID the payment is invoked from; by default chosen as WeChat Pay's documentation says. */
  appId?: string;
}

/** What signing invoke parameters needs: the provider's key (the request signer), its mchid and the clock. */
export interface PayInvokeSigner {
  signMessage(message: string): string;
}

/**
 * The payer-side helpers every order service offers (single and combine orders alike): invoke parameters signed with
 * the provider's private key, the H5 redirect URL and the Native QR code.
 */
export abstract class WechatPayInvokeHelpers {
  constructor(
    private readonly signer: () => PayInvokeSigner,
    private readonly mchid: string,
    private readonly clock: () => number,
  ) {}

  /** Signed JSAPI / mini-program invoke parameters for an existing `prepay_id` (re-invoking an unpaid order). */
  buildJsapiPayParams(prepay_id: string, appId: string): JsapiPayParams {
    checkInvokeInput(prepay_id, appId);
    const timeStamp = String(Math.floor(this.clock() / 1000));
    const nonceStr = generateNonce();
    const pkg = `prepay_id=${prepay_id}`;
    const paySign = this.signer().signMessage(joinSignedLines([appId, timeStamp, nonceStr, pkg]));
    return { appId, timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign };
  }

  /** Signed App invoke parameters for an existing `prepay_id`; the signed 4th line is the bare prepay_id. */
  buildAppPayParams(prepay_id: string, appId: string): AppPayParams {
    checkInvokeInput(prepay_id, appId);
    const timestamp = String(Math.floor(this.clock() / 1000));
    const noncestr = generateNonce();
    const sign = this.signer().signMessage(joinSignedLines([appId, timestamp, noncestr, prepay_id]));
    return { appid: appId, partnerid: this.mchid, prepayid: prepay_id, package: 'Sign=WXPay', noncestr, timestamp, sign };
  }

  /**
   * Appends a URL-encoded `redirect_url` to an `h5_url`. The page at `redirect_url` must not query the order
   * automatically: WeChat may send the user back before payment ends; let the user press a button to check.
   */
  buildH5RedirectUrl(h5_url: string, redirect_url: string): string {
    return appendH5RedirectUrl(h5_url, redirect_url);
  }

  /** Renders a Native `code_url` as a QR code: SVG text, PNG bytes or a `data:image/png` URL. */
  async renderNativeQrCode(code_url: string, options: NativeQrCodeOptions & { format: 'png' }): Promise<Buffer>;
  async renderNativeQrCode(code_url: string, options: NativeQrCodeOptions & { format: 'svg' | 'dataUrl' }): Promise<string>;
  async renderNativeQrCode(code_url: string, options: NativeQrCodeOptions): Promise<string | Buffer> {
    return renderCodeUrlQr(code_url, options);
  }
}

function checkInvokeInput(prepay_id: string, appId: string): void {
  const problems: WechatPayFieldProblem[] = [];
  if (typeof prepay_id !== 'string' || !/^[\w-]{1,64}$/.test(prepay_id)) problems.push({ field: 'prepay_id', message: 'must be the prepay_id returned by the order' });
  if (typeof appId !== 'string' || appId.length < 1 || appId.length > 32) problems.push({ field: 'appId', message: 'must be the AppID used at ordering' });
  if (problems.length) throw new WechatPayValidationError(problems, 'invoke parameters');
}

function appendH5RedirectUrl(h5_url: string, redirect_url: string): string {
  const problems: WechatPayFieldProblem[] = [];
  let h5: URL | undefined;
  try {
    h5 = new URL(h5_url);
  } catch {
    problems.push({ field: 'h5_url', message: 'must be the absolute h5_url returned by h5Prepay()' });
  }
  try {
    const r = new URL(redirect_url);
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(r.hostname);
    if (r.protocol !== 'https:' && !(r.protocol === 'http:' && loopback)) {
      problems.push({ field: 'redirect_url', message: `must use https:// (http:// only for localhost), got ${r.protocol}` });
    }
  } catch {
    problems.push({ field: 'redirect_url', message: 'must be an absolute https:// URL on your configured H5 domain' });
  }
  if (h5?.searchParams.has('redirect_url')) problems.push({ field: 'h5_url', message: 'already has a redirect_url' });
  if (problems.length) throw new WechatPayValidationError(problems, 'H5 redirect');
  return `${h5_url}${h5_url.includes('?') ? '&' : '?'}redirect_url=${encodeURIComponent(redirect_url)}`;
}

async function renderCodeUrlQr(code_url: string, options: NativeQrCodeOptions): Promise<string | Buffer> {
  if (typeof code_url !== 'string' || !code_url.startsWith('weixin://')) {
    throw new WechatPayValidationError([{ field: 'code_url', message: 'must be the weixin://… code_url returned by nativePrepay()' }], 'QR code');
  }
  const size = options.size ?? 256;
  if (!Number.isInteger(size) || size < 64 || size > 4096) {
    throw new WechatPayValidationError([{ field: 'size', message: 'must be an integer between 64 and 4096 pixels' }], 'QR code');
  }
  const common = { width: size, margin: options.margin ?? 2, errorCorrectionLevel: 'M' as const };
  switch (options.format) {
    case 'svg':
      return QRCode.toString(code_url, { ...common, type: 'svg' });
    case 'png':
      return QRCode.toBuffer(code_url, { ...common, type: 'png' });
    case 'dataUrl':
      return QRCode.toDataURL(code_url, { ...common, type: 'image/png' });
    default:
      throw new WechatPayValidationError([{ field: 'format', message: "must be 'svg', 'png' or 'dataUrl'" }], 'QR code');
  }
}
