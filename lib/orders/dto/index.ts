export * from './partner-prepay.dto';
export * from './partner-transaction.dto';
