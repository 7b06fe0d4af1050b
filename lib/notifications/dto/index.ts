export * from './notification-envelope.dto';
export * from './partner-refund-resource.dto';
export * from './partner-transaction-resource.dto';
