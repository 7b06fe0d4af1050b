/**
 * The profit-sharing state machine of the simulator, shared by both families: frozen funds
 * per paid `profit_sharing` order, splits (PROCESSING → FINISHED; lines PENDING → SUCCESS | CLOSED), finish and
 * auto-unfreeze on the simulator clock, returns (PROCESSING → SUCCESS | FAILED), receivers, and balances.
 * Refunds are read from the refund state: a refund of an unsplit order comes out of the
 * frozen funds, so it reduces what can be split.
 */
import { formatBeijingRfc3339 } from '../core/time';
import { SimulatorHttpError, type SimulatorErrorDefinition } from './simulator-errors';
import { digits, isPaid, type SimulatedOrder } from './simulator-orders';
import type { SimulatedRefund } from './simulator-refunds';

const DAY = 86_400_000;

/**
 * The errors of profit sharing. Messages are WeChat's; every status and code label is an
 * UNVERIFIED choice (the docs show the messages only), and so are the messages marked so.
 */
export const PROFIT_SHARING_ERRORS = {
  PRODUCT_IS_ECOMMERCE: { status: 403, code: 'NO_AUTH', internalCode: 268443701, message: '电商商户不允许调用非电商分账API (a 平台收付通 platform splits with /v3/ecommerce/profitsharing/...)', verified: false },
  NOT_PROFIT_SHARING: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '非分账订单不支持分账 (the order was placed without settle_info.profit_sharing: true)', verified: false },
  ORDER_PROCESSING: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '订单处理中，请稍后重试 (the order is not settled yet: retry later)', verified: false },
  INSUFFICIENT: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '分账金额不足 (the amount exceeds what is left unsplit)', verified: false },
  RATIO_EXCEEDED: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '分账金额超出最大分账比例 (the splits would exceed the max ratio of the order amount after fees)', verified: false },
  NO_RELATION: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '分账接收方关系不存在 (add the receiver first)', verified: false },
  FINISHED: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '订单已完结分账，不支持分账 (the order is finished or unfrozen)', verified: false },
  REENTRY_MISMATCH: { status: 400, code: 'INVALID_REQUEST', internalCode: 268498688, message: '分账接收方与原请求不一致 (out_order_no reused with another body)', verified: false },
  RETURN_REENTRY_MISMATCH: { status: 400, code: 'INVALID_REQUEST', internalCode: 268498688, message: '请求重入时，参数与首次请求时不一致 (out_return_no reused with another body)', verified: false },
  NAME_MISMATCH: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '微信用户姓名与实名不一致 (the decrypted name differs from the receiver name)', verified: false },
  FINISH_NOT_PLATFORM: { status: 400, code: 'PARAM_ERROR', internalCode: 268435461, message: '完结分账时分账接收方只能是平台 (finish: true allows only the platform as receiver) [UNVERIFIED text]', verified: false },
  SPLITS_EXCEEDED: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '分账次数超过限制 (at most 50 splits per order) [UNVERIFIED text]', verified: false },
  RECEIVERS_EXCEEDED: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '分账接收方数量超过限制 (too many receivers) [UNVERIFIED text]', verified: false },
  ORDER_NOT_EXISTS: { status: 404, code: 'RESOURCE_NOT_EXISTS', internalCode: 268512771, message: '订单不存在 (no paid order with this transaction_id for this sub_mchid)', verified: false },
  RECORD_NOT_EXISTS: { status: 404, code: 'RESOURCE_NOT_EXISTS', internalCode: 268512771, message: '记录不存在 (no split / return with these numbers)', verified: false },
  RETURN_NOT_ALLOWED: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '只能对成功分给商户接收方的分账进行回退 (return_mchid got no successful MERCHANT_ID line of this split) [UNVERIFIED text]', verified: false },
  RETURN_EXCEEDS: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '回退金额超过可回退金额 (the returns would exceed what was split to return_mchid) [UNVERIFIED text]', verified: false },
  RETURNS_EXCEEDED: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '回退次数超过限制 (at most 50 returns per split) [UNVERIFIED text]', verified: false },
  RETURN_EXPIRED: { status: 400, code: 'INVALID_REQUEST', internalCode: 268447914, message: '分账回退已超过期限 (returns are allowed within 180 days of the split) [UNVERIFIED text]', verified: false },
} as const satisfies Record<string, SimulatorErrorDefinition>;

/** Profit-sharing options of a simulator; every default is an UNVERIFIED choice where the docs give none. */
export interface SimulatorProfitSharingOptions {
  /** Time after payment before an order is settled and splittable (default 60 000: "less than 1 minute after payment"). */
  settlementDelayMs?: number;
  /** Max ratio of the order amount after fees that all splits may total (default 0.3) [UNVERIFIED default]. */
  maxRatio?: number;
  /** Days until unsplit funds unfreeze by themselves (default 180 for ecommerce, 30 for partner). */
  freezeDays?: number;
  /** Where each MERCHANT_ID receiver gets its notifications (its `service_notify_url`, set by the receiver, not the request). */
  receiverNotifyUrls?: Record<string, string>;
  /** `event_type` of the notifications: `PROFITSHARING` (documented, default) or `TRANSACTION` (what users report). */
  notificationEventType?: 'PROFITSHARING' | 'TRANSACTION';
  /** `resource.original_type` (default `profitsharing`; one user saw `transaction`). */
  notificationOriginalType?: string;
  /** The result of a return (default SUCCESS); FAILED spelled `failedSpelling` (default FAILED; OPENAPI says FAIL). */
  returnResult?: 'SUCCESS' | 'PROCESSING' | 'FAILED';
  failedSpelling?: 'FAILED' | 'FAIL';
  /** Receivers per split request (default 50), splits per order (50), returns per split (50), receivers per list (20 000). */
  maxReceiversPerSplit?: number;
  maxSplitsPerOrder?: number;
  maxReturnsPerSplit?: number;
  maxReceivers?: number;
}

/**
 * A receiver as the simulator stores it. Its name is kept only as the SHA-256 (hex) of the decrypted UTF-8 text:
 * enough to check later splits (NAME_MISMATCH), and no real name in memory dumps or the `--state-file`.
 */
export interface SimulatedReceiver {
  type: string;
  account: string;
  nameSha256?: string;
  relationType: string;
  /** Partner: the sub-merchant whose list it is on; ecommerce: platform-wide. */
  subMchid?: string;
}

/** A receiver line of a split. */
export interface SimulatedSplitLine {
  type: string;
  account: string;
  amount: number;
  description: string;
  /** SHA-256 (hex) of the decrypted name, if one was sent (the name itself is not kept). */
  nameSha256?: string;
  result: 'PENDING' | 'SUCCESS' | 'CLOSED';
  failReason?: string;
  detailId: string;
  finishedAt?: number;
}

/** A split or a finish (解冻) of one order. */
export interface SimulatedSplit {
  kind: 'split' | 'finish';
  family: 'ecommerce' | 'partner';
  subMchid: string;
  transactionId: string;
  outOrderNo: string;
  orderId: string;
  /** The body as first received, names left out (ciphertexts differ on every encryption); re-entry compares it. */
  request: Record<string, unknown>;
  status: 'PROCESSING' | 'FINISHED';
  lines: SimulatedSplitLine[];
  /** The `Wechatpay-Serial` the split came with (the key its names were encrypted for). */
  serial?: string;
  /** A finish: what it unfroze. */
  finishAmount?: number;
  finishDescription?: string;
  createdAt: number;
}

/** A return (分账回退). */
export interface SimulatedReturn {
  subMchid: string;
  orderId: string;
  outOrderNo: string;
  outReturnNo: string;
  returnNo: string;
  returnMchid: string;
  amount: number;
  description: string;
  result: 'PROCESSING' | 'SUCCESS' | 'FAILED';
  failReason?: string;
  request: Record<string, unknown>;
  createdAt: number;
  finishedAt?: number;
}

/** The frozen funds of one paid profit-sharing order. */
export interface SimulatedFrozenFunds {
  subMchid: string;
  transactionId: string;
  outTradeNo: string;
  /** Order total less the fee. */
  base: number;
  /** Set by `settle()` (else settled `settlementDelayMs` after payment). */
  settledAt?: number;
  unfrozenAt?: number;
  unfreezeReason?: 'FINISH' | 'AUTO';
}

/** A sub-merchant's balances as the profit-sharing book sees them (fen). */
export interface SimulatedSubMerchantBalance {
  sub_mchid: string;
  /** Unsplit money of orders still frozen for profit sharing (不可用余额). */
  frozen: number;
  /** Paid money that is free: orders without profit sharing, unfrozen rests, and returns received; less refunds. */
  available: number;
  /** What was split out to receivers (successful lines), less returns. */
  split_out: number;
}

/** The simulator's profit-sharing controls for tests (`sim.profitSharing`). */
export interface SimulatorProfitSharingControls {
  /** Settles an order now: its funds become splittable (before: 订单处理中，请稍后重试). */
  settle(transactionId: string): void;
  /** The next split line to `account` ends CLOSED with `failReason` (default ACCOUNT_ABNORMAL). */
  failReceiver(account: string, failReason?: string): void;
  /** Frozen / available balance per sub-merchant. */
  balances(): SimulatedSubMerchantBalance[];
  /** Copies of every split and finish, with the SHA-256 of the decrypted names and the `Wechatpay-Serial` they came with. */
  splits(): SimulatedSplit[];
}

/** What the state machine needs from the rest of the simulator. */
export interface ProfitSharingStateContext {
  clock(): number;
  orders(): readonly SimulatedOrder[];
  refunds(): readonly SimulatedRefund[];
  feeRate: number;
  options: Required<Omit<SimulatorProfitSharingOptions, 'receiverNotifyUrls'>> & { receiverNotifyUrls: Record<string, string> };
}

/** Throws a profit-sharing error, with extra text after WeChat's message. */
export function psError(def: SimulatorErrorDefinition, extra?: string): never {
  throw new SimulatorHttpError(def, extra ? `${def.message}: ${extra}` : def.message);
}

/** Profit-sharing state of one simulated provider. */
export class SimulatorProfitSharingState {
  readonly receivers = new Map<string, SimulatedReceiver>();
  readonly splits = new Map<string, SimulatedSplit>();
  readonly returns = new Map<string, SimulatedReturn>();
  readonly funds = new Map<string, SimulatedFrozenFunds>();
  /** `fail a receiver line`: the next line to this account closes with this reason. */
  readonly pendingFailures = new Map<string, string>();

  constructor(private readonly ctx: ProfitSharingStateContext) {}

  /** Key of a receiver: platform-wide for ecommerce, per sub-merchant for partner. */
  static receiverKey(subMchid: string | undefined, type: string, account: string): string {
    return `${subMchid ?? '*'}|${type}|${account}`;
  }

  /** The paid order of a transaction_id for a sub-merchant (any sub-merchant when `subMchid` is undefined). */
  order(transactionId: string, subMchid?: string): SimulatedOrder {
    const order = this.ctx.orders().find((o) => o.transactionId === transactionId && (subMchid === undefined || o.subMchid === subMchid));
    if (!order || !isPaid(order)) psError(PROFIT_SHARING_ERRORS.ORDER_NOT_EXISTS);
    return order;
  }

  /** The frozen funds of a profit-sharing order, after applying the auto-unfreeze of the simulator clock. */
  fundsOf(order: SimulatedOrder): SimulatedFrozenFunds {
    const settle = order.request.settle_info as { profit_sharing?: unknown } | undefined;
    if (settle?.profit_sharing !== true) psError(PROFIT_SHARING_ERRORS.NOT_PROFIT_SHARING);
    const tid = order.transactionId as string;
    let f = this.funds.get(tid);
    if (!f) {
      const total = order.amount.total;
      f = { subMchid: order.subMchid, transactionId: tid, outTradeNo: order.outTradeNo, base: total - Math.round(total * this.ctx.feeRate) };
      this.funds.set(tid, f);
    }
    if (f.unfrozenAt === undefined && this.ctx.clock() >= this.paidAt(order) + this.ctx.options.freezeDays * DAY) {
      f.unfrozenAt = this.paidAt(order) + this.ctx.options.freezeDays * DAY;
      f.unfreezeReason = 'AUTO';
    }
    return f;
  }

  paidAt(order: SimulatedOrder): number {
    return order.successTime ? Date.parse(order.successTime) : order.createdAt;
  }

  settled(order: SimulatedOrder, f: SimulatedFrozenFunds): boolean {
    return f.settledAt !== undefined || this.ctx.clock() >= this.paidAt(order) + this.ctx.options.settlementDelayMs;
  }

  /** Sum of the lines of an order's splits that moved money (PENDING or SUCCESS). */
  splitAmount(transactionId: string): number {
    let sum = 0;
    for (const s of this.splits.values()) {
      if (s.transactionId !== transactionId || s.kind !== 'split') continue;
      for (const l of s.lines) if (l.result !== 'CLOSED') sum += l.amount;
    }
    return sum;
  }

  refunded(order: SimulatedOrder): number {
    return this.ctx.refunds()
      .filter((r) => r.subMchid === order.subMchid && r.outTradeNo === order.outTradeNo && r.status !== 'CLOSED')
      .reduce((s, r) => s + r.amount.refund, 0);
  }

  /** 剩余待分金额: 0 once unfrozen. */
  unsplit(order: SimulatedOrder): number {
    const f = this.fundsOf(order);
    if (f.unfrozenAt !== undefined) return 0;
    return Math.max(0, f.base - this.splitAmount(f.transactionId) - this.refunded(order));
  }

  /** What the max ratio still allows for an order. */
  ratioRoom(order: SimulatedOrder): number {
    const f = this.fundsOf(order);
    return Math.floor(f.base * this.ctx.options.maxRatio) - this.splitAmount(f.transactionId);
  }

  /** Unfreezes the rest of an order; returns the amount unfrozen. */
  unfreeze(order: SimulatedOrder): number {
    const amount = this.unsplit(order);
    const f = this.fundsOf(order);
    f.unfrozenAt = this.ctx.clock();
    f.unfreezeReason = 'FINISH';
    return amount;
  }

  /** Completes a split's lines (applying pending failures); returns the lines that succeeded. */
  complete(split: SimulatedSplit): SimulatedSplitLine[] {
    const now = this.ctx.clock();
    for (const l of split.lines) {
      const reason = this.pendingFailures.get(l.account);
      if (reason !== undefined) {
        this.pendingFailures.delete(l.account);
        l.result = 'CLOSED';
        l.failReason = reason;
      } else l.result = 'SUCCESS';
      l.finishedAt = now;
    }
    split.status = 'FINISHED';
    return split.lines.filter((l) => l.result === 'SUCCESS');
  }

  newOrderId(): string {
    return `3008${digits(26)}`;
  }

  /** Balances per sub-merchant, from the paid orders, splits, refunds and returns. */
  balances(): SimulatedSubMerchantBalance[] {
    const by = new Map<string, SimulatedSubMerchantBalance>();
    const get = (sub: string) => by.get(sub) ?? by.set(sub, { sub_mchid: sub, frozen: 0, available: 0, split_out: 0 }).get(sub)!;
    for (const order of this.ctx.orders()) {
      if (!isPaid(order) || !order.transactionId) continue;
      const b = get(order.subMchid);
      const settle = order.request.settle_info as { profit_sharing?: unknown } | undefined;
      const total = order.amount.total;
      const base = total - Math.round(total * this.ctx.feeRate);
      if (settle?.profit_sharing !== true) {
        b.available += base - this.refunded(order);
        continue;
      }
      const f = this.fundsOf(order);
      const split = this.splitAmount(f.transactionId);
      b.split_out += split;
      const rest = base - split - this.refunded(order);
      // A refund beyond the frozen rest is paid from the available balance.
      if (f.unfrozenAt === undefined) {
        b.frozen += Math.max(0, rest);
        b.available += Math.min(0, rest);
      } else b.available += rest;
    }
    for (const r of this.returns.values()) {
      if (r.result !== 'SUCCESS') continue;
      const b = get(r.subMchid);
      b.available += r.amount;
      b.split_out -= r.amount;
    }
    return [...by.values()].sort((a, b) => a.sub_mchid.localeCompare(b.sub_mchid));
  }

  time(ms: number | undefined): string | undefined {
    return ms === undefined ? undefined : formatBeijingRfc3339(new Date(ms));
  }

  exportState(): Record<string, unknown> {
    return structuredClone({ receivers: [...this.receivers], splits: [...this.splits], returns: [...this.returns], funds: [...this.funds] });
  }

  importState(state: unknown): void {
    const s = (state ?? {}) as Record<string, Array<[string, never]>>;
    for (const [k, v] of s.receivers ?? []) this.receivers.set(k, v);
    for (const [k, v] of s.splits ?? []) this.splits.set(k, v);
    for (const [k, v] of s.returns ?? []) this.returns.set(k, v);
    for (const [k, v] of s.funds ?? []) this.funds.set(k, v);
  }
}

/** Problems with the `profitSharing` simulator option, for `checkOptions()`. */
export function profitSharingOptionProblems(o: SimulatorProfitSharingOptions | undefined): string[] {
  if (o === undefined) return [];
  if (typeof o !== 'object' || o === null) return ['profitSharing must be an object'];
  const problems: string[] = [];
  if (o.settlementDelayMs !== undefined && !(o.settlementDelayMs >= 0)) problems.push('profitSharing.settlementDelayMs must be >= 0 (ms)');
  if (o.maxRatio !== undefined && !(o.maxRatio > 0 && o.maxRatio <= 1)) problems.push('profitSharing.maxRatio must be in (0, 1], e.g. 0.3');
  if (o.freezeDays !== undefined && !(o.freezeDays > 0)) problems.push('profitSharing.freezeDays must be > 0');
  for (const k of ['maxReceiversPerSplit', 'maxSplitsPerOrder', 'maxReturnsPerSplit', 'maxReceivers'] as const) {
    if (o[k] !== undefined && !(Number.isInteger(o[k]) && (o[k] as number) >= 1)) problems.push(`profitSharing.${k} must be an integer >= 1`);
  }
  if (o.notificationEventType !== undefined && o.notificationEventType !== 'PROFITSHARING' && o.notificationEventType !== 'TRANSACTION') problems.push("profitSharing.notificationEventType must be 'PROFITSHARING' or 'TRANSACTION'");
  if (o.returnResult !== undefined && !['SUCCESS', 'PROCESSING', 'FAILED'].includes(o.returnResult)) problems.push("profitSharing.returnResult must be 'SUCCESS', 'PROCESSING' or 'FAILED'");
  if (o.failedSpelling !== undefined && o.failedSpelling !== 'FAILED' && o.failedSpelling !== 'FAIL') problems.push("profitSharing.failedSpelling must be 'FAILED' or 'FAIL'");
  for (const [mchid, url] of Object.entries(o.receiverNotifyUrls ?? {})) {
    if (typeof url !== 'string' || !/^https?:\/\/[^?#]+$/.test(url)) problems.push(`profitSharing.receiverNotifyUrls.${mchid} must be an http(s) URL without query`);
  }
  return problems;
}

/** The options with their defaults (the freeze period depends on the product: 180 days ecommerce, 30 partner). */
export function resolveProfitSharingOptions(o: SimulatorProfitSharingOptions = {}, product: 'ecommerce' | 'partner'): ProfitSharingStateContext['options'] {
  return {
    settlementDelayMs: o.settlementDelayMs ?? 60_000,
    maxRatio: o.maxRatio ?? 0.3,
    freezeDays: o.freezeDays ?? (product === 'ecommerce' ? 180 : 30),
    receiverNotifyUrls: { ...(o.receiverNotifyUrls ?? {}) },
    notificationEventType: o.notificationEventType ?? 'PROFITSHARING',
    notificationOriginalType: o.notificationOriginalType ?? 'profitsharing',
    returnResult: o.returnResult ?? 'SUCCESS',
    failedSpelling: o.failedSpelling ?? 'FAILED',
    maxReceiversPerSplit: o.maxReceiversPerSplit ?? 50,
    maxSplitsPerOrder: o.maxSplitsPerOrder ?? 50,
    maxReturnsPerSplit: o.maxReturnsPerSplit ?? 50,
    maxReceivers: o.maxReceivers ?? 20_000,
  };
}
