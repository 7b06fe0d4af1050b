/** Internal tokens of the lifecycle module (not exported). */
export const LIFECYCLE_OPTIONS = Symbol('wechatpay:lifecycle-options');
export const LIFECYCLE_SCHEDULER = Symbol('wechatpay:lifecycle-scheduler');
