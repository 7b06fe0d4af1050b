export * from './dto';
export * from './bill-errors';
export { parseTradeBill, parseFundFlowBill, BillParseResult, TradeBillParseResult, FundFlowBillParseResult } from './bill-parser';
export type { BillSource, ParseBillOptions } from './bill-parser';
export * from './wechat-pay-bills.service';
