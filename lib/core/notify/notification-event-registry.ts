import { WechatPayConfigError } from '../errors/wechat-pay.errors';
import type { NotificationEventEntry } from './notification.types';

/** Lets TypeScript infer `R` of an entry from its `resourceClass`, so that `dedupeKey` gets a typed resource. */
export function defineNotificationEvent<R extends object>(entry: NotificationEventEntry<R>): NotificationEventEntry<R> {
  return entry;
}

/** Problems with a list of entries (module option `notifications.events`), for the boot-time config error. */
export function notificationEventProblems(entries: unknown, where: string): string[] {
  if (!Array.isArray(entries)) return [`${where} must be an array of notification event entries`];
  const problems: string[] = [];
  const seen = new Set<string>();
  entries.forEach((e: unknown, i) => {
    const at = `${where}[${i}]`;
    if (typeof e !== 'object' || e === null) {
      problems.push(`${at} must be an object { name, match, resourceClass?, dedupeKey }`);
      return;
    }
    const entry = e as Record<string, unknown>;
    if (typeof entry.name !== 'string' || entry.name === '') problems.push(`${at}.name must be a non-empty string`);
    else if (seen.has(entry.name)) problems.push(`${at}.name "${entry.name}" is used by an earlier entry`);
    else seen.add(entry.name);
    if (typeof entry.match !== 'function')
      problems.push(`${at}.match must be a function (eventType, originalType, resource) => boolean`);
    if (typeof entry.dedupeKey !== 'function')
      problems.push(`${at}.dedupeKey must be a function (notification) => string`);
    if (entry.resourceClass !== undefined && typeof entry.resourceClass !== 'function')
      problems.push(`${at}.resourceClass must be a class (constructor)`);
  });
  return problems;
}

/**
 * The notification kinds one module knows, tried in order: the first entry whose `match()` accepts a decrypted
 * resource decides its class and its exactly-once key. Built by `compose()` from the families' entries and the
 * user's `notifications.events`.
 */
export class NotificationEventRegistry {
  private readonly list: readonly NotificationEventEntry[];
  private readonly byName = new Map<string, NotificationEventEntry>();
  private readonly defaults: readonly string[];

  /** Entries in the order they are tried; names must be unique. */
  constructor(entries: readonly NotificationEventEntry[]) {
    const problems = notificationEventProblems(entries, 'notification events');
    if (problems.length) throw new WechatPayConfigError(problems);
    this.list = [...entries];
    for (const e of entries) this.byName.set(e.name, e);
    this.defaults = entries.filter((e) => e.acceptedByDefault === true).map((e) => e.name);
  }

  /**
   * The user's entries first (so that one of them can take over a shape a built-in entry would also match), then
   * the built-in ones; a user entry named like a built-in one replaces it.
   */
  static compose(
    builtIn: readonly NotificationEventEntry[],
    user: readonly NotificationEventEntry[] = [],
  ): NotificationEventRegistry {
    const replaced = new Set(user.map((e) => e.name));
    return new NotificationEventRegistry([...user, ...builtIn.filter((e) => !replaced.has(e.name))]);
  }

  /** The first entry that recognises the resource, if any. */
  find(
    eventType: string,
    originalType: string | undefined,
    plain: Readonly<Record<string, unknown>>,
  ): NotificationEventEntry | undefined {
    for (const entry of this.list) if (entry.match(eventType, originalType, plain)) return entry;
    return undefined;
  }

  /** The entry of that name. */
  get(name: string): NotificationEventEntry | undefined {
    return this.byName.get(name);
  }

  /** Names of every entry, in the order they are tried. */
  names(): string[] {
    return this.list.map((e) => e.name);
  }

  /** Names of the kinds accepted by routes that list no `resources` (entries with `acceptedByDefault`). */
  defaultKinds(): readonly string[] {
    return this.defaults;
  }
}
