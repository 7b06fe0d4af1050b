/**
 * Every error the simulator answers with, in one table. `verified: false` marks a status or code label that no
 * public source read for the spec confirmed: the simulator has to pick something, and tests that
 * depend on these exact values should say so.
 */
import { WechatPayError } from '../core/errors/wechat-pay.errors';

/** One error answer of the simulator. */
export interface SimulatorErrorDefinition {
  status: number;
  code: string;
  /** WeChat Pay's internal code, shown after the last `-` of `Request-ID`. */
  internalCode: number;
  /** Default message (Chinese as WeChat Pay answers, English added to help developers). */
  message: string;
  /** Whether status and code label come from official docs or SDKs (false = UNVERIFIED choice). */
  verified: boolean;
}

/** The simulator's error catalogue; `verified: false` entries are UNVERIFIED choices (not confirmed by any public source). */
export const SIMULATOR_ERRORS = {
  SIGN_ERROR: { status: 401, code: 'SIGN_ERROR', internalCode: 268443699, message: '签名错误 (signature verification failed)', verified: true },
  NONCE_REPLAYED: { status: 401, code: 'SIGN_ERROR', internalCode: 268443699, message: '重复的请求随机串 (nonce_str was already used)', verified: false },
  PARAM_ERROR: { status: 400, code: 'PARAM_ERROR', internalCode: 268435461, message: '参数错误 (invalid parameter)', verified: true },
  EXTRA_PARAM: { status: 400, code: 'PARAM_ERROR', internalCode: 270924358, message: '非法额外参数 (unknown field)', verified: false },
  JSAPI_OPENID_REQUIRED: { status: 400, code: 'PARAM_ERROR', internalCode: 268501013, message: 'JSAPI必须传openid (JSAPI orders need payer.sp_openid or payer.sub_openid)', verified: false },
  INVALID_JSON: { status: 400, code: 'PARAM_ERROR', internalCode: 268435461, message: '请求体不是合法的JSON (request body is not valid JSON)', verified: false },
  USER_AGENT_REQUIRED: { status: 400, code: 'PARAM_ERROR', internalCode: 268435461, message: 'HTTP header缺少User-Agent (the User-Agent header is required)', verified: false },
  MCHID_MISMATCH: {
    status: 400,
    code: 'INVALID_REQUEST',
    internalCode: 268447843,
    message: 'http header中的mchid与post payload中的mchid不匹配 (Authorization mchid must equal sp_mchid)',
    verified: false,
  },
  SUB_MCHID_IS_SELF: { status: 400, code: 'INVALID_REQUEST', internalCode: 268443705, message: '子商户mchid不能与自身mchid相同 (sub_mchid must differ from sp_mchid)', verified: false },
  MCH_NOT_EXISTS: { status: 400, code: 'MCH_NOT_EXISTS', internalCode: 268443715, message: '商户号不存在 (sub_mchid does not exist)', verified: true },
  NO_AUTH: { status: 403, code: 'NO_AUTH', internalCode: 268443701, message: '受理关系不存在 (the sub-merchant has not authorized this service provider)', verified: false },
  APPID_MCHID_NOT_MATCH: { status: 400, code: 'APPID_MCHID_NOT_MATCH', internalCode: 268445527, message: 'appid和mch_id不匹配 (AppID is not bound to the merchant)', verified: true },
  OUT_TRADE_NO_USED: { status: 403, code: 'OUT_TRADE_NO_USED', internalCode: 268498688, message: '请求重入时，参数与首次请求时不一致 (out_trade_no reused with different parameters)', verified: false },
  ORDER_PAID: { status: 400, code: 'ORDER_PAID', internalCode: 268449538, message: '订单已支付 (the order is already paid)', verified: false },
  ORDER_CLOSED: { status: 400, code: 'ORDER_CLOSED', internalCode: 268447914, message: '该订单已失效 (the order is closed or expired; use a new out_trade_no)', verified: false },
  ORDER_NOT_EXIST: { status: 404, code: 'ORDER_NOT_EXIST', internalCode: 268512771, message: '订单不存在 (order not found)', verified: true },
  ORDER_MCH_MISMATCH: { status: 404, code: 'ORDER_NOT_EXIST', internalCode: 268447845, message: '子商户号和订单信息不匹配 (the order belongs to another sub_mchid)', verified: false },
  CERTIFICATES_UNAVAILABLE: { status: 404, code: 'RESOURCE_NOT_EXISTS', internalCode: 268512771, message: '无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥', verified: false },
  NOT_FOUND: { status: 404, code: 'NOT_FOUND', internalCode: 268435456, message: '资源不存在 (no such API in the simulator)', verified: false },
  BODY_TOO_LARGE: { status: 400, code: 'PARAM_ERROR', internalCode: 268435464, message: '请求体过大 (request body too large)', verified: false },
  FREQUENCY_LIMITED: { status: 429, code: 'FREQUENCY_LIMITED', internalCode: 268447840, message: '频率超限 (rate limited)', verified: true },
  SYSTEM_ERROR: { status: 500, code: 'SYSTEM_ERROR', internalCode: 268435457, message: '系统异常，请用相同参数重新调用', verified: true },
  // Refunds. Appended after the order errors so that `errorForStatus` keeps its earlier choices.
  REFUND_NOT_EXISTS: { status: 404, code: 'RESOURCE_NOT_EXISTS', internalCode: 268512771, message: '退款单不存在 (no refund with this out_refund_no for this sub_mchid)', verified: true },
  REFUND_ORDER_NOT_EXISTS: {
    status: 404,
    code: 'RESOURCE_NOT_EXISTS',
    internalCode: 268512771,
    message: '订单不存在 (no order with this transaction_id / out_trade_no for this sub_mchid)',
    verified: false,
  },
  REFUND_ORDER_NOT_PAID: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '订单未支付，不能发起退款 (only a paid order can be refunded)', verified: false },
  REFUND_TOTAL_MISMATCH: { status: 400, code: 'PARAM_ERROR', internalCode: 268435461, message: '订单金额与原订单不一致 (amount.total must equal the order total)', verified: false },
  REFUND_EXCEEDS: { status: 400, code: 'INVALID_REQUEST', internalCode: 268435464, message: '退款金额超过订单可退金额 (the refunds would exceed the order total)', verified: false },
  REFUND_EXPIRED: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '订单已超过退款期限 (refunds are allowed within 1 year of payment)', verified: false },
  REFUND_REENTRY_MISMATCH: {
    status: 400,
    code: 'INVALID_REQUEST',
    internalCode: 268498688,
    message: '请求重入时，参数与首次请求时不一致 (out_refund_no reused with different parameters)',
    verified: false,
  },
  REFUND_COUNT_EXCEEDED: { status: 400, code: 'INVALID_REQUEST', internalCode: 268435464, message: '部分退款次数超过限制 (at most 50 partial refunds per order)', verified: false },
  // Abnormal refund application (POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund). The docs name
  // no error codes for these cases: every status/code below is an UNVERIFIED choice.
  ABNORMAL_REFUND_NOT_EXISTS: {
    status: 404,
    code: 'RESOURCE_NOT_EXISTS',
    internalCode: 268512771,
    message: '退款单不存在 (no refund with this refund_id, sub_mchid and out_refund_no)',
    verified: false,
  },
  REFUND_NOT_ABNORMAL: {
    status: 400,
    code: 'INVALID_REQUEST',
    internalCode: 268447914,
    message: '退款单状态不是退款异常，不能发起异常退款 (only an ABNORMAL refund can be applied for again)',
    verified: false,
  },
  SENSITIVE_SERIAL_UNKNOWN: {
    status: 400,
    code: 'PARAM_ERROR',
    internalCode: 268435461,
    message: 'Wechatpay-Serial缺失或无效 (encrypted fields need Wechatpay-Serial naming the WeChat Pay public key id or a platform certificate serial)',
    verified: false,
  },
  SENSITIVE_DECRYPT_FAILED: {
    status: 400,
    code: 'PARAM_ERROR',
    internalCode: 268435461,
    message: '敏感字段解密失败 (a sensitive field was not RSA-OAEP encrypted for the key Wechatpay-Serial names)',
    verified: false,
  },
  // Bills.
  BILL_DATE_OUT_OF_RANGE: { status: 400, code: 'INVALID_REQUEST', internalCode: 268435464, message: '账单日期超出可下载范围 (bill_date must be before today and within the last 3 months)', verified: false },
  NO_STATEMENT_EXIST: { status: 400, code: 'NO_STATEMENT_EXIST', internalCode: 268512771, message: '账单不存在 (there were no trades that day: nothing to download, do not retry)', verified: false },
  STATEMENT_CREATING: { status: 400, code: 'STATEMENT_CREATING', internalCode: 268435457, message: '账单生成中 (the bill is still being generated: retry after 10:00 Beijing time)', verified: false },
  BILL_TOKEN_INVALID: {
    status: 400,
    code: 'INVALID_REQUEST',
    internalCode: 268435461,
    message: '下载链接已过期或无效 (the download_url token expired after 5 minutes or is unknown: apply for the bill again)',
    verified: false,
  },
  BILL_NO_AUTH: { status: 403, code: 'NO_AUTH', internalCode: 268443701, message: '无权下载此账单 (the download_url was applied for by another merchant)', verified: false },
  // The simulator's own limit, not WeChat Pay's behaviour: WeChat Pay answers SM4_GCM with SM4-encrypted files.
  BILL_SM4_UNSUPPORTED: {
    status: 400,
    code: 'INVALID_REQUEST',
    internalCode: 268435461,
    message: '模拟器不支持SM4_GCM (the simulator cannot encrypt bills with SM4_GCM: Node.js has no SM4-GCM cipher; apply with AEAD_AES_256_GCM)',
    verified: false,
  },
  // 平台收付通. The product-gating texts are WeChat's for profit sharing ("非电商商户暂不支持调用此API");
  // the refund one, and every status/code label here, are UNVERIFIED choices.
  PRODUCT_NOT_ECOMMERCE: {
    status: 403,
    code: 'NO_AUTH',
    internalCode: 268443701,
    message: '非电商商户暂不支持调用此API (the provider is not a 平台收付通 platform: use the partner endpoints, or start the simulator with product: ecommerce)',
    verified: false,
  },
  PRODUCT_IS_ECOMMERCE: {
    status: 403,
    code: 'NO_AUTH',
    internalCode: 268443701,
    message: '电商商户不允许调用非电商退款API (a 平台收付通 platform refunds with /v3/ecommerce/refunds/apply)',
    verified: false,
  },
  ADVANCE_NOT_PERMITTED: {
    status: 403,
    code: 'NO_AUTH',
    internalCode: 268443701,
    message: '无垫付退款权限 (the platform has no 垫付退款 permission: refund_account REFUND_SOURCE_PARTNER_ADVANCE is refused)',
    verified: false,
  },
  REFUND_ID_NOT_EXISTS: { status: 404, code: 'RESOURCE_NOT_EXISTS', internalCode: 268512771, message: '退款单不存在 (no refund with this refund_id for this sub_mchid)', verified: false },
  NOT_ADVANCE_REFUND: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '非垫付退款单，无需回补 (only a refund with refund_account REFUND_SOURCE_PARTNER_ADVANCE can be returned)', verified: false },
  ADVANCE_REFUND_NOT_SUCCESS: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '退款未成功，暂不能回补 (the advance refund has not succeeded yet)', verified: false },
  RETURN_ADVANCE_NOT_EXISTS: { status: 404, code: 'RESOURCE_NOT_EXISTS', internalCode: 268512771, message: '垫付回补记录不存在 (no return-advance was requested for this refund)', verified: false },
  // Media upload; every status/code label is an UNVERIFIED choice.
  MULTIPART_INVALID: { status: 400, code: 'PARAM_ERROR', internalCode: 268435461, message: '请求体不是合法的multipart/form-data (a meta part and a file part are expected)', verified: false },
  MEDIA_SHA256_MISMATCH: { status: 400, code: 'PARAM_ERROR', internalCode: 268435461, message: '文件sha256与meta不一致 (meta.sha256 is not the SHA-256 of the file part)', verified: false },
  // Combine orders.
  COMBINE_CLOSE_MISMATCH: {
    status: 400,
    code: 'INVALID_REQUEST',
    internalCode: 268447914,
    message: '请求关单的子单信息与下单时的子单信息不一致 (close needs every sub-order of the combine order: same count, mchid, sub_mchid and out_trade_no)',
    verified: true,
  },
  COMBINE_SETTLE_MISMATCH: {
    status: 403,
    code: 'OUT_TRADE_NO_USED',
    internalCode: 268498688,
    message: '重复下单且结算信息不一致 (combine_out_trade_no reused with another settle_info)',
    verified: false,
  },
  COMBINE_SUB_ORDER_NO_USED: {
    status: 403,
    code: 'OUT_TRADE_NO_USED',
    internalCode: 268498688,
    message: '商户订单号重复 (a sub-order out_trade_no is already an order of this sub-merchant)',
    verified: false,
  },
} as const satisfies Record<string, SimulatorErrorDefinition>;

/** Name of an entry of `SIMULATOR_ERRORS`. */
export type SimulatorErrorName = keyof typeof SIMULATOR_ERRORS;

/** The `detail` object of parameter errors. */
export interface SimulatorErrorDetail {
  field: string;
  value?: unknown;
  issue: string;
  location: 'body' | 'query' | 'path' | 'header';
}

/** Thrown inside the simulator's handlers and turned into a signed JSON error answer. */
export class SimulatorHttpError extends WechatPayError {
  readonly status: number;
  readonly code: string;
  readonly internalCode: number;

  constructor(
    definition: SimulatorErrorDefinition,
    message?: string,
    readonly detail?: SimulatorErrorDetail,
  ) {
    super(message ?? definition.message);
    this.status = definition.status;
    this.code = definition.code;
    this.internalCode = definition.internalCode;
  }

  /** The JSON error body: `{"code","message","detail"?}`. */
  toBody(): Record<string, unknown> {
    return this.detail ? { code: this.code, message: this.message, detail: this.detail } : { code: this.code, message: this.message };
  }
}

/** A default error for an injected fault with only a status. */
export function errorForStatus(status: number): SimulatorErrorDefinition {
  const known = Object.values(SIMULATOR_ERRORS).find((e) => e.status === status && e.verified);
  if (known) return known;
  if (status === 403) return SIMULATOR_ERRORS.NO_AUTH;
  if (status === 404) return SIMULATOR_ERRORS.NOT_FOUND;
  return { status, code: status >= 500 ? 'SYSTEM_ERROR' : 'INVALID_REQUEST', internalCode: 268435457, message: `simulated HTTP ${status}`, verified: false };
}
