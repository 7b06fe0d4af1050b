import { WechatPayConfigError } from '../errors/wechat-pay.errors';
import { NotificationEventRegistry } from './notification-event-registry';
import type { NotificationEventEntry } from './notification.types';

const entry = (name: string, prefix: string, extra: Partial<NotificationEventEntry> = {}): NotificationEventEntry => ({
  name,
  match: (eventType) => eventType.startsWith(prefix),
  dedupeKey: ({ envelope }) => `${name}:${envelope.id}`,
  ...extra,
});

describe('NotificationEventRegistry', () => {
  const builtIn = [entry('payment', 'TRANSACTION.', { acceptedByDefault: true }), entry('refund', 'REFUND.')];

  it('tries user entries before built-in ones, and a user entry replaces the built-in one of its name', () => {
    const registry = NotificationEventRegistry.compose(builtIn, [entry('combine', 'TRANSACTION.'), entry('refund', 'REFUND.X')]);
    expect(registry.names()).toEqual(['combine', 'refund', 'payment']);
    expect(registry.find('TRANSACTION.SUCCESS', 'transaction', {})?.name).toBe('combine');
    expect(registry.find('REFUND.SUCCESS', 'refund', {})).toBeUndefined();
    expect(registry.find('REFUND.XYZ', 'refund', {})?.name).toBe('refund');
    expect(registry.find('MCHWITHDRAW.CHANGE', 'mch_withdraw', {})).toBeUndefined();
  });

  it('lists the kinds accepted by default', () => {
    expect(NotificationEventRegistry.compose(builtIn).defaultKinds()).toEqual(['payment']);
  });

  it('refuses duplicate names and malformed entries, listing every problem', () => {
    const bad = [entry('a', 'A.'), entry('a', 'B.'), { name: 'c' } as unknown as NotificationEventEntry];
    expect(() => new NotificationEventRegistry(bad)).toThrow(WechatPayConfigError);
    try {
      new NotificationEventRegistry(bad);
    } catch (e) {
      expect((e as WechatPayConfigError).problems).toEqual([
        'notification events[1].name "a" is used by an earlier entry',
        'notification events[2].match must be a function (eventType, originalType, resource) => boolean',
        'notification events[2].dedupeKey must be a function (notification) => string',
      ]);
    }
  });
});
