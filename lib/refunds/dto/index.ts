export * from './partner-refund.dto';
export * from './ecommerce-refund.dto';
