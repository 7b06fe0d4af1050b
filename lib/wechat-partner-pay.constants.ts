/** Internal injection token of the resolved, validated configuration. Not exported from the package. */
export const WECHAT_PAY_CONFIG = Symbol('wechatpay:config');
/** Internal injection token of the per-module key store. */
export const WECHAT_PAY_KEY_STORE = Symbol('wechatpay:key-store');
/** Internal injection token of the per-module verifier. */
export const WECHAT_PAY_VERIFIER = Symbol('wechatpay:verifier');
