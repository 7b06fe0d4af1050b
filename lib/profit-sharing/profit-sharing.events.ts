import { defineNotificationEvent } from '../core/notify/notification-event-registry';
import { ProfitSharingResource } from './dto/profit-sharing-resource.dto';

/**
 * The profit-sharing notification (分账动账通知), sent to `MERCHANT_ID` receivers only. The docs
 * say `PROFITSHARING.SUCCESS` / `PROFITSHARING.RETURN`, users see `TRANSACTION.SUCCESS` for both, and `original_type`
 * is `profitsharing` (one user saw `transaction`) [UNVERIFIED which]: so it is recognised by its decrypted shape —
 * `order_id` and `receiver`, no `trade_state` — under any of them. Not accepted by default: only a route that lists
 * `resources: ['profit-sharing']` receives it, so a payment handler is never handed a split.
 */
export const PROFIT_SHARING_EVENT = defineNotificationEvent({
  name: 'profit-sharing',
  match: (eventType, originalType, plain) =>
    (eventType.startsWith('PROFITSHARING.') || eventType === 'TRANSACTION.SUCCESS') &&
    (originalType === undefined || originalType === 'profitsharing' || originalType === 'transaction') &&
    'order_id' in plain &&
    'receiver' in plain &&
    !('trade_state' in plain),
  resourceClass: ProfitSharingResource,
  // order_id + receiver account + the event; the summary (分账 / 分账回退) tells a return from a split when
  // both arrive as TRANSACTION.SUCCESS.
  dedupeKey: ({ envelope, resource: r }) =>
    `profitsharing:${r.order_id}:${r.receiver.account}:${envelope.event_type.startsWith('PROFITSHARING.') ? envelope.event_type : envelope.summary}`,
});

/** Notification kinds of the profit-sharing family. */
export const PROFIT_SHARING_NOTIFICATION_EVENTS = [PROFIT_SHARING_EVENT];
