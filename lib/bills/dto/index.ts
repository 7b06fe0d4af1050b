export * from './bill-amount.dto';
export * from './fund-flow-bill.dto';
export * from './trade-bill.dto';
