/** Route metadata written by `@WechatPayNotification()`: its `WechatPayNotificationRouteOptions`. */
export const NOTIFICATION_ROUTE_OPTIONS = 'wechatpay:notification-route';
/** Where the guard leaves the parsed notification (and the route's options) on the request object. */
export const NOTIFICATION_REQUEST_KEY = Symbol('wechatpay:notification');
