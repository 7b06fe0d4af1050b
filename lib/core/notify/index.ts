export * from './event-type';
export * from './notification.errors';
export * from './notification.types';
export * from './notification-event-registry';
export * from './notification-parser';
export * from './resource-validation';
