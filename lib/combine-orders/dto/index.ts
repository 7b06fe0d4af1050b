export * from './combine-prepay.dto';
export * from './combine-transaction.dto';
