/**
 * The profit-sharing book (分账): both families on one state machine
 * (`simulator-profit-sharing.ts`) — `/v3/ecommerce/profitsharing/...` for a provider started with
 * `product: 'ecommerce'` and `/v3/profitsharing/...` for `'partner'`; each family refuses the other product with
 * WeChat's message. Names (ecommerce `receiver_name`, partner `name`) are decrypted with the key `Wechatpay-Serial`
 * names and checked against the receiver's. Notifications go to `MERCHANT_ID` receivers only, at the URL the
 * simulator's `profitSharing.receiverNotifyUrls` gives for their mchid.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ECOMMERCE_PROFIT_SHARING_ENDPOINTS, PARTNER_PROFIT_SHARING_ENDPOINTS } from '../../profit-sharing/profit-sharing.endpoints';
import { SIMULATOR_ERRORS, SimulatorHttpError } from '../simulator-errors';
import { digits, type SimulatedOrder } from '../simulator-orders';
import {
  PROFIT_SHARING_ERRORS as PE,
  type ProfitSharingStateContext,
  psError,
  resolveProfitSharingOptions,
  type SimulatedReturn,
  type SimulatedSplit,
  type SimulatedSplitLine,
  type SimulatorProfitSharingControls,
  type SimulatorProfitSharingOptions,
  SimulatorProfitSharingState,
} from '../simulator-profit-sharing';
import type { SimulatedRefund } from '../simulator-refunds';
import { json, type SimulatorBook, type SimulatorBookContext, type SimulatorRoute, toolingJson, type ToolingRoute } from '../simulator-routes';
import { decryptSensitiveField } from '../simulator-signing';
import { fail, jsonEqual, sortKeys } from '../simulator-validation';
import type { OrdersBook } from './orders.book';
import { type ProfitSharingFamily, queryParam, validateFinishBody, validateProfitSharingBody, validateReturnBody } from './profit-sharing.validation';

const DAY = 86_400_000;
type Body = Record<string, unknown>;

/** Profit sharing of one simulated provider. */
export class ProfitSharingBook implements SimulatorBook {
  readonly name = 'profit sharing';

  readonly state: SimulatorProfitSharingState;
  /** What `sim.profitSharing` gives tests. */
  readonly controls: SimulatorProfitSharingControls;
  private readonly product: 'ecommerce' | 'partner';
  private readonly opts: ProfitSharingStateContext['options'];

  constructor(
    private readonly ctx: SimulatorBookContext,
    private readonly orders: OrdersBook,
    refunds: () => readonly SimulatedRefund[],
    config: { product: 'ecommerce' | 'partner'; feeRate: number; options?: SimulatorProfitSharingOptions },
  ) {
    this.product = config.product;
    this.opts = resolveProfitSharingOptions(config.options, config.product);
    this.state = new SimulatorProfitSharingState({ clock: ctx.clock, orders: () => orders.state.list(), refunds, feeRate: config.feeRate, options: this.opts });
    this.controls = {
      settle: (t) => void this.settle(t),
      failReceiver: (a, r) => void this.failReceiver(a, r),
      balances: () => this.state.balances(),
      splits: () => structuredClone([...this.state.splits.values()]),
    };
  }

  routes(): SimulatorRoute[] {
    const E = ECOMMERCE_PROFIT_SHARING_ENDPOINTS;
    const P = PARTNER_PROFIT_SHARING_ENDPOINTS;
    const family = (f: ProfitSharingFamily, routes: SimulatorRoute[]): SimulatorRoute[] =>
      routes.map((route) => ({
        ...route,
        handle: (c) => {
          if (f !== this.product) throw new SimulatorHttpError(f === 'ecommerce' ? SIMULATOR_ERRORS.PRODUCT_NOT_ECOMMERCE : PE.PRODUCT_IS_ECOMMERCE);
          return route.handle(c);
        },
      }));
    return [
      ...family('ecommerce', [
        { endpoint: E.addReceiver, handle: ({ body }) => json(200, this.addReceiver('ecommerce', body)) },
        { endpoint: E.deleteReceiver, handle: ({ body }) => json(200, this.deleteReceiver('ecommerce', body)) },
        { endpoint: E.createOrder, handle: ({ body, headers }) => json(200, this.splitJson(this.createSplit('ecommerce', body, headers))) },
        {
          endpoint: E.queryOrder,
          handle: ({ query }) => json(200, this.splitJson(this.findSplit(queryParam(query, 'sub_mchid', 32), queryParam(query, 'transaction_id', 32), queryParam(query, 'out_order_no')))),
        },
        { endpoint: E.finishOrder, handle: ({ body }) => json(200, this.finishJson(this.finish('ecommerce', body))) },
        { endpoint: E.queryAmounts, handle: ({ params }) => json(200, this.amounts(params.transaction_id)) },
        { endpoint: E.createReturnOrder, handle: ({ body }) => json(200, this.returnJson(this.createReturn(body), 'ecommerce')) },
        { endpoint: E.queryReturnOrder, handle: ({ query }) => json(200, this.returnJson(this.findReturn(query, queryParam(query, 'out_return_no')), 'ecommerce')) },
      ]),
      ...family('partner', [
        { endpoint: P.addReceiver, handle: ({ body, headers }) => json(200, this.addReceiver('partner', body, headers)) },
        { endpoint: P.deleteReceiver, handle: ({ body }) => json(200, this.deleteReceiver('partner', body)) },
        { endpoint: P.createOrder, handle: ({ body, headers }) => json(200, this.splitJson(this.createSplit('partner', body, headers))) },
        {
          endpoint: P.queryOrder,
          handle: ({ params, query }) => json(200, this.splitJson(this.findSplit(queryParam(query, 'sub_mchid', 32), queryParam(query, 'transaction_id', 32), params.out_order_no))),
        },
        { endpoint: P.finishOrder, handle: ({ body }) => json(200, this.finishJson(this.finish('partner', body))) },
        { endpoint: P.queryAmounts, handle: ({ params }) => json(200, this.amounts(params.transaction_id)) },
        { endpoint: P.createReturnOrder, handle: ({ body }) => json(200, this.returnJson(this.createReturn(body), 'partner')) },
        { endpoint: P.queryReturnOrder, handle: ({ params, query }) => json(200, this.returnJson(this.findReturn(query, params.out_return_no), 'partner')) },
      ]),
    ];
  }

  tooling(): ToolingRoute[] {
    return [
      { method: 'GET', path: '/__sim/profit-sharing', handle: () => toolingJson(200, this.state.exportState()) },
      { method: 'GET', path: '/__sim/profit-sharing/balances', handle: () => toolingJson(200, { balances: this.state.balances() }) },
      { method: 'POST', path: '/__sim/profit-sharing/settle', handle: ({ body }) => toolingJson(200, this.settle(String(body.transaction_id))) },
      { method: 'POST', path: '/__sim/profit-sharing/fail-receiver', handle: ({ body }) => toolingJson(200, this.failReceiver(String(body.account), body.fail_reason === undefined ? undefined : String(body.fail_reason))) },
    ];
  }

  exportState(): Record<string, unknown> {
    return { profitSharing: this.state.exportState() };
  }

  importState(state: Readonly<Record<string, unknown>>): void {
    this.state.importState(state.profitSharing);
  }

  /** Settles an order now (its funds become splittable); returns its remaining amount. */
  settle(transactionId: string): { transaction_id: string; unsplit_amount: number } {
    const order = this.state.order(transactionId);
    this.state.fundsOf(order).settledAt = this.ctx.clock();
    this.ctx.changed();
    return { transaction_id: transactionId, unsplit_amount: this.state.unsplit(order) };
  }

  /** Makes the next split line to `account` end CLOSED with `failReason` (default ACCOUNT_ABNORMAL). */
  failReceiver(account: string, failReason = 'ACCOUNT_ABNORMAL'): { account: string; fail_reason: string } {
    this.state.pendingFailures.set(account, failReason);
    return { account, fail_reason: failReason };
  }

  private serial(headers: IncomingHttpHeaders): string | undefined {
    const v = headers['wechatpay-serial'];
    return Array.isArray(v) ? v[0] : v;
  }

  private scope(family: ProfitSharingFamily, body: Body): string | undefined {
    if (family === 'ecommerce') return undefined;
    this.orders.state.checkSubMerchant(body.sub_mchid as string);
    return body.sub_mchid as string;
  }

  private addReceiver(family: ProfitSharingFamily, body: Body, headers: IncomingHttpHeaders = {}): Body {
    validateProfitSharingBody(family, 'addReceiver', body, this.opts.maxReceiversPerSplit);
    this.checkAppid(body);
    const sub = this.scope(family, body);
    const nameSha256 = digestName(family === 'partner' ? decryptSensitiveField(this.ctx.keyring(), this.serial(headers), 'name', body.name) : (body.name as string | undefined));
    const key = SimulatorProfitSharingState.receiverKey(sub, body.type as string, body.account as string);
    // "重复绑定返回成功，不会覆盖原数据".
    if (!this.state.receivers.has(key)) {
      if (this.state.receivers.size >= this.opts.maxReceivers) psError(PE.RECEIVERS_EXCEEDED);
      this.state.receivers.set(key, { type: body.type as string, account: body.account as string, relationType: body.relation_type as string, ...(nameSha256 !== undefined ? { nameSha256 } : {}), ...(sub ? { subMchid: sub } : {}) });
    }
    const out: Body = { type: body.type, account: body.account };
    if (family === 'partner') Object.assign(out, { sub_mchid: sub, relation_type: body.relation_type, ...(body.custom_relation ? { custom_relation: body.custom_relation } : {}) });
    return sortKeys(out);
  }

  private deleteReceiver(family: ProfitSharingFamily, body: Body): Body {
    validateProfitSharingBody(family, 'deleteReceiver', body, this.opts.maxReceiversPerSplit);
    this.checkAppid(body);
    const sub = this.scope(family, body);
    this.state.receivers.delete(SimulatorProfitSharingState.receiverKey(sub, body.type as string, body.account as string));
    return sortKeys({ type: body.type, account: body.account, ...(sub ? { sub_mchid: sub } : {}) });
  }

  private checkAppid(body: Body): void {
    if (body.appid !== undefined && body.appid !== this.ctx.credentials().spAppid) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH, `${SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH.message}: appid`);
    }
  }

  /** The paid profit-sharing order a request names, and its funds, checked for a new split or finish. */
  private splittable(body: Body): SimulatedOrder {
    this.orders.state.checkSubMerchant(body.sub_mchid as string);
    const order = this.state.order(body.transaction_id as string, body.sub_mchid as string);
    const f = this.state.fundsOf(order);
    if (f.unfrozenAt !== undefined) psError(PE.FINISHED, f.unfreezeReason === 'AUTO' ? 'the freeze period passed and the funds were unfrozen' : undefined);
    if (!this.state.settled(order, f)) psError(PE.ORDER_PROCESSING);
    return order;
  }

  private createSplit(family: ProfitSharingFamily, body: Body, headers: IncomingHttpHeaders): SimulatedSplit {
    validateProfitSharingBody(family, 'createOrder', body, this.opts.maxReceiversPerSplit);
    this.checkAppid(body);
    const nameField = family === 'ecommerce' ? 'receiver_name' : 'name';
    const accountField = family === 'ecommerce' ? 'receiver_account' : 'account';
    const lines = (body.receivers as Body[]).map((r, i) => ({
      type: r.type as string,
      account: r[accountField] as string,
      amount: r.amount as number,
      description: r.description as string,
      nameSha256: digestName(decryptSensitiveField(this.ctx.keyring(), this.serial(headers), `receivers/${i}/${nameField}`, r[nameField])),
    }));
    const finish = family === 'ecommerce' ? body.finish === true : body.unfreeze_unsplit === true;
    const request = { transaction_id: body.transaction_id, finish, lines: lines.map(({ nameSha256: _name, ...l }) => l) };
    const key = `${body.sub_mchid as string}|${body.out_order_no as string}`;
    const existing = this.state.splits.get(key);
    if (existing) {
      if (existing.kind !== 'split' || !jsonEqual(existing.request, request)) psError(PE.REENTRY_MISMATCH);
      return existing;
    }
    const order = this.splittable(body);
    const spMchid = this.ctx.credentials().spMchid;
    if (family === 'ecommerce' && finish && lines.some((l) => l.type !== 'MERCHANT_ID' || l.account !== spMchid)) psError(PE.FINISH_NOT_PLATFORM);
    const count = [...this.state.splits.values()].filter((s) => s.kind === 'split' && s.transactionId === order.transactionId).length;
    if (count >= this.opts.maxSplitsPerOrder) psError(PE.SPLITS_EXCEEDED);
    const scope = family === 'ecommerce' ? undefined : order.subMchid;
    lines.forEach((l, i) => {
      const receiver = this.state.receivers.get(SimulatorProfitSharingState.receiverKey(scope, l.type, l.account));
      if (!receiver) psError(PE.NO_RELATION, `receivers[${i}] ${l.type} ${l.account}`);
      if (l.nameSha256 !== undefined && receiver.nameSha256 !== undefined && l.nameSha256 !== receiver.nameSha256) psError(PE.NAME_MISMATCH, `receivers[${i}]`);
    });
    const total = lines.reduce((s, l) => s + l.amount, 0);
    if (total > this.state.ratioRoom(order)) psError(PE.RATIO_EXCEEDED, `at most ${Math.max(0, this.state.ratioRoom(order))} fen more may be split (max ratio ${this.opts.maxRatio})`);
    if (total > this.state.unsplit(order)) psError(PE.INSUFFICIENT, `${this.state.unsplit(order)} fen left`);
    const now = this.ctx.clock();
    const split: SimulatedSplit = {
      kind: 'split',
      family,
      subMchid: order.subMchid,
      transactionId: order.transactionId as string,
      outOrderNo: body.out_order_no as string,
      orderId: this.state.newOrderId(),
      request,
      ...(this.serial(headers) !== undefined ? { serial: this.serial(headers) } : {}),
      status: 'PROCESSING',
      lines: lines.map(({ nameSha256, ...l }): SimulatedSplitLine => ({ ...l, ...(nameSha256 !== undefined ? { nameSha256 } : {}), result: 'PENDING', detailId: `3601${digits(24)}` })),
      createdAt: now,
    };
    this.state.splits.set(key, split);
    // The answer shows the split as accepted (PROCESSING, lines PENDING); it is processed at once after that.
    const answer = structuredClone(split);
    for (const l of this.state.complete(split)) this.notifyReceiver(split, l);
    if (finish) this.state.unfreeze(order);
    return answer;
  }

  private notifyReceiver(split: SimulatedSplit, line: SimulatedSplitLine): void {
    if (line.type !== 'MERCHANT_ID') return;
    const url = this.opts.receiverNotifyUrls[line.account];
    if (!url) return;
    this.sendNotification(url, 'SUCCESS', { sub_mchid: split.subMchid, transaction_id: split.transactionId, order_id: split.orderId, out_order_no: split.outOrderNo, receiver: { type: line.type, account: line.account, amount: line.amount, description: line.description } });
  }

  private sendNotification(url: string, kind: 'SUCCESS' | 'RETURN', resource: Body): void {
    const eventType = this.opts.notificationEventType === 'TRANSACTION' ? 'TRANSACTION.SUCCESS' : `PROFITSHARING.${kind}`;
    const sp = this.ctx.credentials().spMchid;
    this.ctx.notify(url, eventType, sortKeys({ sp_mchid: sp, ...resource, success_time: this.state.time(this.ctx.clock()) }), { originalType: this.opts.notificationOriginalType });
  }

  private findSplit(subMchid: string, transactionId: string, outOrderNo: string): SimulatedSplit {
    this.orders.state.checkSubMerchant(subMchid);
    const split = this.state.splits.get(`${subMchid}|${outOrderNo}`);
    if (!split || split.transactionId !== transactionId) psError(PE.RECORD_NOT_EXISTS);
    return split;
  }

  private finish(family: ProfitSharingFamily, body: Body): SimulatedSplit {
    validateFinishBody(body);
    const key = `${body.sub_mchid as string}|${body.out_order_no as string}`;
    const existing = this.state.splits.get(key);
    if (existing) {
      // The split's own number "returns success but does not unfreeze".
      if (existing.transactionId !== body.transaction_id) psError(PE.REENTRY_MISMATCH);
      return existing;
    }
    const order = this.splittable(body);
    const now = this.ctx.clock();
    const amount = this.state.unfreeze(order);
    const split: SimulatedSplit = {
      kind: 'finish',
      family,
      subMchid: order.subMchid,
      transactionId: order.transactionId as string,
      outOrderNo: body.out_order_no as string,
      orderId: this.state.newOrderId(),
      request: { transaction_id: body.transaction_id, description: body.description },
      status: 'FINISHED',
      // The partner answer shows the unfreeze as a line to the sub-merchant itself [SDK wechatpay-go UnfreezeOrder].
      lines: [{ type: 'MERCHANT_ID', account: order.subMchid, amount, description: body.description as string, result: 'SUCCESS', detailId: `3601${digits(24)}`, finishedAt: now }],
      finishAmount: amount,
      finishDescription: body.description as string,
      createdAt: now,
    };
    this.state.splits.set(key, split);
    return split;
  }

  private amounts(transactionId: string): Body {
    if (!/^[0-9A-Za-z]{1,32}$/.test(transactionId)) fail('/transaction_id', transactionId, 'must be 1-32 characters', 'path');
    return { transaction_id: transactionId, unsplit_amount: this.state.unsplit(this.state.order(transactionId)) };
  }

  private createReturn(body: Body): SimulatedReturn {
    validateReturnBody(body);
    this.orders.state.checkSubMerchant(body.sub_mchid as string);
    const key = `${body.sub_mchid as string}|${body.out_return_no as string}`;
    const existing = this.expire(this.state.returns.get(key));
    if (existing) {
      if (!jsonEqual(existing.request, body)) psError(PE.RETURN_REENTRY_MISMATCH);
      return existing;
    }
    const split = [...this.state.splits.values()].find(
      (s) => s.kind === 'split' && s.subMchid === body.sub_mchid && (body.order_id !== undefined ? s.orderId === body.order_id : s.outOrderNo === body.out_order_no),
    );
    if (!split) psError(PE.RECORD_NOT_EXISTS, 'no split with this order_id / out_order_no');
    const line = split.lines.find((l) => l.type === 'MERCHANT_ID' && l.account === body.return_mchid && l.result === 'SUCCESS');
    if (split.status !== 'FINISHED' || !line) psError(PE.RETURN_NOT_ALLOWED);
    const now = this.ctx.clock();
    if (now > split.createdAt + 180 * DAY) psError(PE.RETURN_EXPIRED);
    const earlier = [...this.state.returns.values()].filter((r) => r.orderId === split.orderId);
    if (earlier.length >= this.opts.maxReturnsPerSplit) psError(PE.RETURNS_EXCEEDED);
    const returned = earlier.filter((r) => r.returnMchid === body.return_mchid && r.result !== 'FAILED').reduce((s, r) => s + r.amount, 0);
    if (returned + (body.amount as number) > line.amount) psError(PE.RETURN_EXCEEDS, `${line.amount - returned} fen can still be returned from ${line.account}`);
    const result = this.opts.returnResult;
    const ret: SimulatedReturn = {
      subMchid: split.subMchid,
      orderId: split.orderId,
      outOrderNo: split.outOrderNo,
      outReturnNo: body.out_return_no as string,
      returnNo: `3008${digits(26)}`,
      returnMchid: body.return_mchid as string,
      amount: body.amount as number,
      description: body.description as string,
      result,
      ...(result === 'FAILED' ? { failReason: 'ACCOUNT_ABNORMAL' } : {}),
      request: structuredClone(body),
      createdAt: now,
      ...(result !== 'PROCESSING' ? { finishedAt: now } : {}),
    };
    this.state.returns.set(key, ret);
    const url = this.opts.receiverNotifyUrls[ret.returnMchid];
    if (url && result === 'SUCCESS') {
      // For a return the numbers are the return's, and `receiver` is the original 分账方.
      this.sendNotification(url, 'RETURN', { sub_mchid: ret.subMchid, transaction_id: split.transactionId, order_id: ret.returnNo, out_order_no: ret.outReturnNo, receiver: { type: 'MERCHANT_ID', account: ret.subMchid, amount: ret.amount, description: ret.description } });
    }
    return ret;
  }

  /** A return still PROCESSING after 5 days fails by timeout (TIME_OUT_CLOSED) [SDK wechatpay-java javadoc]. */
  private expire(ret: SimulatedReturn | undefined): SimulatedReturn | undefined {
    if (ret?.result === 'PROCESSING' && this.ctx.clock() >= ret.createdAt + 5 * DAY) {
      Object.assign(ret, { result: 'FAILED', failReason: 'TIME_OUT_CLOSED', finishedAt: ret.createdAt + 5 * DAY });
      this.ctx.changed();
    }
    return ret;
  }

  private findReturn(query: URLSearchParams, outReturnNo: string): SimulatedReturn {
    const sub = queryParam(query, 'sub_mchid', 32);
    this.orders.state.checkSubMerchant(sub);
    const ret = this.expire(this.state.returns.get(`${sub}|${outReturnNo}`));
    const orderId = query.get('order_id');
    const outOrderNo = query.get('out_order_no');
    if (orderId === null && outOrderNo === null) fail('/out_order_no', null, 'give order_id or out_order_no', 'query');
    if (!ret || (orderId !== null && ret.orderId !== orderId) || (outOrderNo !== null && ret.outOrderNo !== outOrderNo)) psError(PE.RECORD_NOT_EXISTS);
    return ret;
  }

  private lineJson(l: SimulatedSplitLine, family: ProfitSharingFamily, created: number): Body {
    const out: Body = { amount: l.amount, description: l.description, detail_id: l.detailId, result: l.result, type: l.type };
    out[family === 'ecommerce' ? 'receiver_account' : 'account'] = l.account;
    if (l.failReason !== undefined) out.fail_reason = l.failReason;
    if (family === 'partner') out.create_time = this.state.time(created);
    if (l.finishedAt !== undefined) out.finish_time = this.state.time(l.finishedAt);
    return sortKeys(out);
  }

  /** A split as its family answers it (ecommerce `status`, partner `state`); a finish number queried: `finish_amount`. */
  private splitJson(s: SimulatedSplit): Body {
    const out: Body = { sub_mchid: s.subMchid, transaction_id: s.transactionId, out_order_no: s.outOrderNo, order_id: s.orderId };
    out[s.family === 'ecommerce' ? 'status' : 'state'] = s.status;
    if (s.kind === 'finish' && s.family === 'ecommerce') Object.assign(out, { finish_amount: s.finishAmount, finish_description: s.finishDescription });
    else out.receivers = s.lines.map((l) => this.lineJson(l, s.family, s.createdAt));
    return sortKeys(out);
  }

  /** Ecommerce finish-order answers four ids; partner unfreeze answers the order as accepted (PROCESSING). */
  private finishJson(s: SimulatedSplit): Body {
    if (s.family === 'ecommerce') return sortKeys({ sub_mchid: s.subMchid, transaction_id: s.transactionId, out_order_no: s.outOrderNo, order_id: s.orderId });
    return { ...this.splitJson(s), state: 'PROCESSING' };
  }

  private returnJson(r: SimulatedReturn, family: ProfitSharingFamily): Body {
    const result = r.result === 'FAILED' ? this.opts.failedSpelling : r.result;
    const out: Body = { sub_mchid: r.subMchid, order_id: r.orderId, out_order_no: r.outOrderNo, out_return_no: r.outReturnNo, return_mchid: r.returnMchid, amount: r.amount, result };
    if (family === 'ecommerce') out.return_no = r.returnNo;
    else Object.assign(out, { return_id: r.returnNo, description: r.description, create_time: this.state.time(r.createdAt) });
    if (r.failReason !== undefined) out.fail_reason = r.failReason;
    if (r.finishedAt !== undefined) out.finish_time = this.state.time(r.finishedAt);
    return sortKeys(out);
  }
}

/** SHA-256 (hex) of a decrypted name: the simulator checks names against each other, it never keeps them. */
function digestName(name: string | undefined): string | undefined {
  return name === undefined ? undefined : createHash('sha256').update(name, 'utf8').digest('hex');
}
