export * from './partner-refund.dto';
