export * from './bill-amount.dto';
export * from './fund-flow-bill.dto';
export * from './trade-bill.dto';
export * from './sub-merchant-fund-flow-bill.dto';
