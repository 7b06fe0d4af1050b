import { COMBINE_ORDERS_NOTIFICATION_EVENTS } from '../combine-orders/combine-orders.events';
import type { NotificationEventEntry } from '../core/notify/notification.types';
import { ORDERS_NOTIFICATION_EVENTS } from '../orders/orders.events';
import { PROFIT_SHARING_NOTIFICATION_EVENTS } from '../profit-sharing/profit-sharing.events';
import { REFUNDS_NOTIFICATION_EVENTS } from '../refunds/refunds.events';

/** The notification kinds every module knows. A new endpoint family with notifications adds its entries here. */
export const BUILT_IN_NOTIFICATION_EVENTS: readonly NotificationEventEntry[] = [
  ...ORDERS_NOTIFICATION_EVENTS,
  ...REFUNDS_NOTIFICATION_EVENTS,
  ...COMBINE_ORDERS_NOTIFICATION_EVENTS,
  ...PROFIT_SHARING_NOTIFICATION_EVENTS,
];
