/** Route metadata written by `@WechatPayNotification()`. */
export const NOTIFICATION_ROUTE_OPTIONS = 'wechatpay:notification-route';
/** Where the guard leaves the parsed notification (and its exactly-once runner) on the request object. */
export const NOTIFICATION_REQUEST_KEY = Symbol('wechatpay:notification');
/** The only encryption algorithm of notification resources. */
export const NOTIFICATION_ALGORITHM = 'AEAD_AES_256_GCM';
