export * from './dto';
export * from './bills.errors';
export { parseTradeBill, parseFundFlowBill, BillParseResult, TradeBillParseResult, FundFlowBillParseResult } from './bill-parser';
export type { BillSource, ParseBillOptions } from './bill-parser';
export * from './wechat-pay-bills.service';
