/**
 * `nestjs-wechat-partner-pay/testing`: an offline WeChat Pay APIv3 partner simulator, its credentials, and a factory
 * of genuinely signed notifications for unit tests, and a writer of bills in WeChat Pay's file format.
 */
export { WechatPaySimulator } from './simulator';
export type { SimulatorOptions, SimulatorCombineOptions, SimulatorRequestRecord, SimulatorNotifications, SimulatorState } from './simulator';
export type { SimulatorEcommerceOptions, SimulatorMediaOptions } from './simulator-options';
export type { SimulatedMedia } from './books/media.book';
export {
  defaultSimulatorCredentials,
  generateSimulatorCredentials,
  generatePlatformCertificate,
  randomCertificateSerial,
  SIMULATOR_DEFAULT_IDS,
} from './simulator-credentials';
export type { SimulatorCredentials, SimulatorPlatformCertificate, SimulatorSubMerchant, GenerateCredentialsOptions } from './simulator-credentials';
export type { SimulatedOrder, SimulatedTradeState, SimulatorPayOptions, OrderBookState } from './simulator-orders';
export type { SimulatedCombineOrder, SimulatedCombineCart, SimulatorCombinePayOptions, CombineBookState } from './simulator-combine-orders';
export type {
  SimulatedAbnormalRefundApplication,
  SimulatedRefund,
  SimulatedRefundStatus,
  SimulatedRefundOutcome,
  SimulatedReturnAdvance,
  SimulatedReturnAdvanceResult,
  CompleteRefundOptions,
} from './simulator-refunds';
export type {
  SimulatorBillApplication,
  SimulatorTradeBillFilter,
  SimulatorFundFlowAccount,
  SimulatorSubMerchantFundFlowAccount,
  SimulatorEncryptedBillOptions,
  SimulatorEncryptedBillApplication,
  SimulatorEncryptedBillPart,
} from './simulator-bills';
export type { SimulatorFault, SimulatorFaults } from './simulator-faults';
export { WECHAT_NOTIFICATION_RETRY_DELAYS_MS } from './simulator-notifier';
export type { NotificationDelivery } from './simulator-notifier';
export { SIMULATOR_ERRORS } from './simulator-errors';
export type { SimulatorErrorDefinition, SimulatorErrorDetail } from './simulator-errors';
export type { SimulatorSignWith } from './simulator-signing';
export { buildSignedNotification, buildNotificationBody } from './notification-factory';
export type { SignedNotification, SignedNotificationInput, NotificationBodyInput } from './notification-factory';
export { buildCertificatePem } from './x509-builder';
export type { CertificateSpec, DistinguishedName } from './x509-builder';
export {
  writeTradeBill,
  writeFundFlowBill,
  generateTradeBill,
  generateFundFlowBill,
  summarizeTradeBillRows,
  summarizeFundFlowBillRows,
  escapeBillField,
  WechatPayBillWriteError,
} from './bill-writer';
export type {
  TradeBillWriterRow,
  FundFlowBillWriterRow,
  BillWriterFormatOptions,
  TradeBillWriterOptions,
  FundFlowBillWriterOptions,
  TradeBillTotals,
  FundFlowBillTotals,
} from './bill-writer';
export type { SimulatedSplit, SimulatedSubMerchantBalance, SimulatorProfitSharingControls, SimulatorProfitSharingOptions } from './simulator-profit-sharing';
