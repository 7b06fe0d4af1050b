/** The `nestjs-wechat-partner-pay/lifecycle` entry: order watch and daily reconciliation (BullMQ or in-process). */
export { WechatPayLifecycleModule } from './wechat-pay-lifecycle.module';
export type { WechatPayLifecycleAsyncOptions, WechatPayLifecycleForRootOptions } from './wechat-pay-lifecycle.module-definition';
export type { WechatPayLifecycleModuleOptions, LifecycleSchedulerOptions } from './lifecycle.options';
export type { BullMqSchedulerOptions, BullMqWorkerOptions, LifecycleBullQueue, LifecycleRedisConnection } from './bullmq.scheduler';
export { BullMqLifecycleScheduler } from './bullmq.scheduler';
export { InProcessLifecycleScheduler } from './in-process.scheduler';
export type { LifecycleScheduler, LifecycleProcessors, LifecycleRetryPolicy, OrderWatchJobData, WatchStepOutcome } from './lifecycle-scheduler';
export { WechatPayLifecycleMetrics, type WechatPayLifecycleCounters } from './lifecycle-metrics';
export { WechatPayOrderWatchService, watchId } from './wechat-pay-order-watch.service';
export type {
  HandlePaidNotificationResult,
  PaidOrderSource,
  WatchCombineOrderRequest,
  WatchOrderRequest,
  WechatPayOrderClosedEvent,
  WechatPayOrderClosedHandler,
  WechatPayPaidHandler,
  WechatPayPaidOrder,
} from './order-watch.types';
export { WechatPayReconciliationService, type ReconcileDayOptions } from './wechat-pay-reconciliation.service';
export { reconcileTradeBill, type ReconcileOptions } from './reconciliation/reconcile-trade-bill';
export type { LocalOrderRecord, LocalRefundRecord, WechatPayLocalOrderSource } from './reconciliation/local-order-source';
export type { ReconciliationDifference, ReconciliationDifferenceKind, ReconciliationReport } from './reconciliation/reconciliation-report';
export { WechatPayLifecycleConfigError, WechatPayLifecycleError, WechatPayOrderNotWatchedError } from './lifecycle.errors';
export type { WechatPayCreatedOrder } from '../orders/order-created.hooks';
