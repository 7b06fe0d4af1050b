export * from './in-memory-notification-dedupe.store';
export * from './redis-notification-dedupe.store';
