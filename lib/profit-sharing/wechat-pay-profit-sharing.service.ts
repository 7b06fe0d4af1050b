import { Inject, Injectable } from '@nestjs/common';
import { WECHAT_PAY_CONFIG } from '../wechat-partner-pay.constants';
import type { ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { WechatPayApiError, WechatPayError, type WechatPayFieldProblem } from '../core/errors/wechat-pay.errors';
import type { WechatPayEndpoint } from '../core/http/endpoint';
import type { WechatPayEndpointCall } from '../core/http/transport';
import { validateRequest } from '../core/validation/validate-request';
import { WechatPayClient } from '../client/wechat-pay.client';
import { WechatPayCertificatesService } from '../certificates/wechat-pay-certificates.service';
import type { WechatPayProduct } from '../interfaces/wechat-partner-pay-options.interface';
import { ECOMMERCE_PROFIT_SHARING_ENDPOINTS as E, PARTNER_PROFIT_SHARING_ENDPOINTS as PT } from './profit-sharing.endpoints';
import { WechatPayProfitSharingError } from './profit-sharing.errors';
import {
  EcommerceAddReceiverRequest,
  EcommerceCreateSplitRequest,
  EcommerceDeleteReceiverRequest,
  PartnerAddReceiverRequest,
  PartnerCreateSplitRequest,
  PartnerDeleteReceiverRequest,
  ProfitSharingAmountsQuery,
  ProfitSharingFinishRequest,
  ProfitSharingOrderQuery,
  ProfitSharingReturnQuery,
  ProfitSharingReturnRequest,
} from './dto/profit-sharing-request.dto';
import type {
  EcommerceFinishAnswer,
  EcommerceProfitSharingOrder,
  EcommerceProfitSharingReturn,
  EcommerceReceiverAnswer,
  PartnerProfitSharingOrder,
  PartnerProfitSharingReturn,
  PartnerReceiverAnswer,
  ProfitSharingAmounts,
} from './dto/profit-sharing.dto';

/** RSA-OAEP-SHA1 with a 2048-bit key encrypts at most 214 bytes. */
const MAX_SENSITIVE_BYTES = 214;

type Of<P extends WechatPayProduct, Ecommerce, Partner> = P extends 'ecommerce' ? Ecommerce : Partner;
/** The add-receiver request of a product. */
export type AddReceiverRequestOf<P extends WechatPayProduct> = Of<P, EcommerceAddReceiverRequest, PartnerAddReceiverRequest>;
/** The add / delete receiver answer of a product. */
export type ReceiverAnswerOf<P extends WechatPayProduct> = Of<P, EcommerceReceiverAnswer, PartnerReceiverAnswer>;
/** The delete-receiver request of a product. */
export type DeleteReceiverRequestOf<P extends WechatPayProduct> = Of<P, EcommerceDeleteReceiverRequest, PartnerDeleteReceiverRequest>;
/** The split request of a product (ecommerce `finish`, partner `unfreeze_unsplit`). */
export type CreateSplitRequestOf<P extends WechatPayProduct> = Of<P, EcommerceCreateSplitRequest, PartnerCreateSplitRequest>;
/** A split as a product answers it (ecommerce `status`, partner `state`). */
export type ProfitSharingOrderOf<P extends WechatPayProduct> = Of<P, EcommerceProfitSharingOrder, PartnerProfitSharingOrder>;
/** The finish / unfreeze answer of a product. */
export type FinishAnswerOf<P extends WechatPayProduct> = Of<P, EcommerceFinishAnswer, PartnerProfitSharingOrder>;
/** A return as a product answers it (ecommerce `result`, partner `state`). */
export type ProfitSharingReturnOf<P extends WechatPayProduct> = Of<P, EcommerceProfitSharingReturn, PartnerProfitSharingReturn>;

/**
 * Profit sharing (分账), in the endpoint family of the module's `product`:
 * `/v3/ecommerce/profitsharing/...` for `'ecommerce'` (平台收付通: receivers platform-wide, `finish`), and
 * `/v3/profitsharing/...` for `'partner'` (普通服务商: receivers per sub-merchant, `unfreeze_unsplit`). Only orders
 * placed with `settle_info.profit_sharing: true` can be split, and only after settlement. Every request is checked
 * before it is sent; WeChat's refusals become `WechatPayProfitSharingError` with a typed `reason`.
 *
 * The type parameter only narrows request and answer types: inject `WechatPayProfitSharingService<'ecommerce'>` (or
 * `<'partner'>`) to match your `product` option.
 */
@Injectable()
export class WechatPayProfitSharingService<P extends WechatPayProduct = WechatPayProduct> {
  constructor(
    private readonly client: WechatPayClient,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
    private readonly certificates: WechatPayCertificatesService,
  ) {}

  private get ecommerce(): boolean {
    return this.config.product === 'ecommerce';
  }

  /**
   * Adds a receiver (添加分账接收方): ecommerce once for the whole platform (the platform must add itself before
   * splitting to itself), partner once per `sub_mchid` (its `name` is sent encrypted). `appid` is the module's
   * `spAppid`. Adding an existing receiver is success; so is WeChat's "操作已完成，无需二次请求" for it.
   */
  async addReceiver(req: AddReceiverRequestOf<P>): Promise<ReceiverAnswerOf<P>> {
    if (this.ecommerce) {
      const r = validateRequest(EcommerceAddReceiverRequest, req, 'profit-sharing receiver', (x, problems) => {
        if (x.type === 'MERCHANT_ID' && x.name === undefined) problems.push({ field: 'name', message: "is required for a MERCHANT_ID receiver (the merchant's full name)" });
      });
      const body = { appid: this.config.spAppid, type: r.type, account: r.account, ...(r.name !== undefined ? { name: r.name } : {}), relation_type: r.relation_type };
      return this.send(E.addReceiver, { body }, { type: r.type, account: r.account }) as Promise<ReceiverAnswerOf<P>>;
    }
    const r = validateRequest(PartnerAddReceiverRequest, req, 'profit-sharing receiver', (x, problems) => {
      if (x.type === 'MERCHANT_ID' && x.name === undefined) problems.push({ field: 'name', message: "is required for a MERCHANT_ID receiver (the merchant's full name)" });
      if (x.type === 'PERSONAL_SUB_OPENID' && x.sub_appid === undefined) problems.push({ field: 'sub_appid', message: 'is required for a PERSONAL_SUB_OPENID receiver' });
      if (x.relation_type === 'CUSTOM' && x.custom_relation === undefined) problems.push({ field: 'custom_relation', message: 'is required when relation_type is CUSTOM' });
      if (x.name !== undefined && Buffer.byteLength(x.name, 'utf8') > MAX_SENSITIVE_BYTES) problems.push({ field: 'name', message: `is too long to encrypt (at most ${MAX_SENSITIVE_BYTES} UTF-8 bytes)` });
    });
    const body: Record<string, unknown> = { sub_mchid: r.sub_mchid, appid: this.config.spAppid };
    if (r.sub_appid !== undefined) body.sub_appid = r.sub_appid;
    Object.assign(body, { type: r.type, account: r.account });
    let serial: string | undefined;
    if (r.name !== undefined) {
      const enc = await this.certificates.encryptSensitiveWithRefresh(r.name);
      body.name = enc.ciphertext;
      serial = enc.serial;
    }
    body.relation_type = r.relation_type;
    if (r.custom_relation !== undefined) body.custom_relation = r.custom_relation;
    return this.send(PT.addReceiver, { body, wechatpaySerial: serial }, { sub_mchid: r.sub_mchid, type: r.type, account: r.account }) as Promise<ReceiverAnswerOf<P>>;
  }

  /** Deletes a receiver (删除分账接收方). It can still be the subject of a return afterwards. */
  async deleteReceiver(req: DeleteReceiverRequestOf<P>): Promise<ReceiverAnswerOf<P>> {
    if (this.ecommerce) {
      const r = validateRequest(EcommerceDeleteReceiverRequest, req, 'profit-sharing receiver deletion');
      return this.send(E.deleteReceiver, { body: { appid: this.config.spAppid, type: r.type, account: r.account } }) as Promise<ReceiverAnswerOf<P>>;
    }
    const r = validateRequest(PartnerDeleteReceiverRequest, req, 'profit-sharing receiver deletion', (x, problems) => {
      if (x.type === 'PERSONAL_SUB_OPENID' && x.sub_appid === undefined) problems.push({ field: 'sub_appid', message: 'is required for a PERSONAL_SUB_OPENID receiver' });
    });
    const body: Record<string, unknown> = { sub_mchid: r.sub_mchid, appid: this.config.spAppid, ...(r.sub_appid !== undefined ? { sub_appid: r.sub_appid } : {}), type: r.type, account: r.account };
    return this.send(PT.deleteReceiver, { body }) as Promise<ReceiverAnswerOf<P>>;
  }

  /**
   * Requests a split (请求分账) of a settled profit-sharing order: 1–50 receiver lines, amounts in whole fen,
   * descriptions of at most 80 UTF-8 bytes. Names (`receiver_name` / `name`) are given in plain text and sent
   * RSA-OAEP encrypted with the WeChat Pay public key or the newest platform certificate (per `verification`),
   * whose id goes in `Wechatpay-Serial` (sent on every split, as WeChat's SDK does). Ecommerce `finish: true` makes
   * it the last split, to the platform only; partner `unfreeze_unsplit: true` unfreezes the rest. The answer is
   * usually PROCESSING: query with the same `out_order_no`. Before settlement WeChat answers 订单处理中 —
   * `WechatPayProfitSharingError` with `retryLater: true`: send the identical request again later.
   */
  async createOrder(req: CreateSplitRequestOf<P>): Promise<ProfitSharingOrderOf<P>> {
    if (this.ecommerce) {
      const r = validateRequest(EcommerceCreateSplitRequest, req, 'profit-sharing split', (x, problems) => {
        (x.receivers ?? []).forEach((line, i) => {
          if (!line) return;
          if (x.finish === true && (line.type !== 'MERCHANT_ID' || line.receiver_account !== this.config.spMchid)) {
            problems.push({ field: `receivers[${i}]`, message: `must be the platform (MERCHANT_ID ${this.config.spMchid}) when finish is true: a finishing split goes to the platform only` });
          }
          if (line.receiver_name !== undefined && line.type !== 'PERSONAL_OPENID') problems.push({ field: `receivers[${i}].receiver_name`, message: 'is only for PERSONAL_OPENID receivers' });
          sensitiveLength(line.receiver_name, `receivers[${i}].receiver_name`, problems);
        });
      });
      const { receivers, serial } = await this.encryptLines(r.receivers, 'receiver_name', (l) => ({ type: l.type, receiver_account: l.receiver_account, amount: l.amount, description: l.description }));
      const body = { appid: this.config.spAppid, sub_mchid: r.sub_mchid, transaction_id: r.transaction_id, out_order_no: r.out_order_no, receivers, finish: r.finish };
      return this.send(E.createOrder, { body, wechatpaySerial: serial }) as Promise<ProfitSharingOrderOf<P>>;
    }
    const r = validateRequest(PartnerCreateSplitRequest, req, 'profit-sharing split', (x, problems) => {
      (x.receivers ?? []).forEach((line, i) => {
        if (!line) return;
        if (line.type === 'PERSONAL_SUB_OPENID' && x.sub_appid === undefined) problems.push({ field: 'sub_appid', message: `is required: receivers[${i}] is PERSONAL_SUB_OPENID` });
        sensitiveLength(line.name, `receivers[${i}].name`, problems);
      });
    });
    const { receivers, serial } = await this.encryptLines(r.receivers, 'name', (l) => ({ type: l.type, account: l.account, amount: l.amount, description: l.description }));
    const body: Record<string, unknown> = { appid: this.config.spAppid, ...(r.sub_appid !== undefined ? { sub_appid: r.sub_appid } : {}), sub_mchid: r.sub_mchid };
    Object.assign(body, { transaction_id: r.transaction_id, out_order_no: r.out_order_no, receivers, unfreeze_unsplit: r.unfreeze_unsplit });
    return this.send(PT.createOrder, { body, wechatpaySerial: serial }) as Promise<ProfitSharingOrderOf<P>>;
  }

  /** Queries a split or a finish by its `out_order_no`; an unknown one is `RESOURCE_NOT_EXISTS` (404). */
  async queryOrder(req: ProfitSharingOrderQuery): Promise<ProfitSharingOrderOf<P>> {
    const r = validateRequest(ProfitSharingOrderQuery, req, 'profit-sharing query');
    if (this.ecommerce) return this.send(E.queryOrder, { query: { sub_mchid: r.sub_mchid, transaction_id: r.transaction_id, out_order_no: r.out_order_no } }) as Promise<ProfitSharingOrderOf<P>>;
    return this.send(PT.queryOrder, { params: { out_order_no: r.out_order_no }, query: { sub_mchid: r.sub_mchid, transaction_id: r.transaction_id } }) as Promise<ProfitSharingOrderOf<P>>;
  }

  /**
   * Unfreezes what is left of an order to its sub-merchant and ends its profit sharing (ecommerce `finish-order`,
   * 解冻剩余资金; partner `orders/unfreeze`). Give a **new** `out_order_no`: reusing the split's number "returns
   * success but does not unfreeze". Ecommerce answers without a status: query this number for `finish_amount`.
   */
  async finishOrder(req: ProfitSharingFinishRequest): Promise<FinishAnswerOf<P>> {
    const r = validateRequest(ProfitSharingFinishRequest, req, 'profit-sharing finish');
    const body = { sub_mchid: r.sub_mchid, transaction_id: r.transaction_id, out_order_no: r.out_order_no, description: r.description };
    return this.send(this.ecommerce ? E.finishOrder : PT.finishOrder, { body }) as Promise<FinishAnswerOf<P>>;
  }

  /** 剩余待分金额: what can still be split of an order (after fees, splits, refunds; 0 once unfrozen). */
  async queryAmounts(req: ProfitSharingAmountsQuery): Promise<ProfitSharingAmounts> {
    const r = validateRequest(ProfitSharingAmountsQuery, req, 'profit-sharing amounts query');
    return this.send(this.ecommerce ? E.queryAmounts : PT.queryAmounts, { params: { transaction_id: r.transaction_id } });
  }

  /**
   * Returns (分账回退) part of a split from a `MERCHANT_ID` receiver to the sub-merchant's available balance (the
   * order's splittable amount is not restored). Give exactly one of `order_id` and `out_order_no` (partner: the
   * `out_order_no` is required by the query, so give it). Keep `out_return_no` while the return is PROCESSING.
   */
  async createReturnOrder(req: ProfitSharingReturnRequest): Promise<ProfitSharingReturnOf<P>> {
    const r = validateRequest(ProfitSharingReturnRequest, req, 'profit-sharing return', (x, problems) => oneSplitId(x, problems));
    const body: Record<string, unknown> = { sub_mchid: r.sub_mchid };
    if (r.order_id !== undefined) body.order_id = r.order_id;
    if (r.out_order_no !== undefined) body.out_order_no = r.out_order_no;
    Object.assign(body, { out_return_no: r.out_return_no, return_mchid: r.return_mchid, amount: r.amount, description: r.description });
    return this.send(this.ecommerce ? E.createReturnOrder : PT.createReturnOrder, { body }) as Promise<ProfitSharingReturnOf<P>>;
  }

  /** Queries a return by `out_return_no` (ecommerce: with `order_id` or `out_order_no`; partner: with `out_order_no`). */
  async queryReturnOrder(req: ProfitSharingReturnQuery): Promise<ProfitSharingReturnOf<P>> {
    const r = validateRequest(ProfitSharingReturnQuery, req, 'profit-sharing return query', (x, problems) => {
      if (this.ecommerce) oneSplitId(x, problems);
      else if (x.out_order_no === undefined) problems.push({ field: 'out_order_no', message: 'is required by the partner return query' });
    });
    if (this.ecommerce) {
      const query: Record<string, string> = { sub_mchid: r.sub_mchid, out_return_no: r.out_return_no };
      if (r.order_id !== undefined) query.order_id = r.order_id;
      if (r.out_order_no !== undefined) query.out_order_no = r.out_order_no;
      return this.send(E.queryReturnOrder, { query }) as Promise<ProfitSharingReturnOf<P>>;
    }
    return this.send(PT.queryReturnOrder, { params: { out_return_no: r.out_return_no }, query: { sub_mchid: r.sub_mchid, out_order_no: r.out_order_no as string } }) as Promise<ProfitSharingReturnOf<P>>;
  }

  /**
   * Encrypts the name field of each line; every line names one key, and a split always carries a `Wechatpay-Serial`
   * (the key of the verification mode), as wechatpay-java sends it on every split.
   */
  private async encryptLines<L extends object>(lines: readonly L[], field: keyof L & string, plain: (l: L) => Record<string, unknown>): Promise<{ receivers: Record<string, unknown>[]; serial: string }> {
    let serial: string | undefined;
    const receivers: Record<string, unknown>[] = [];
    for (const line of lines) {
      const out = plain(line);
      const name = line[field];
      if (typeof name === 'string') {
        const enc = await this.certificates.encryptSensitiveWithRefresh(name);
        if (serial !== undefined && enc.serial !== serial) throw new WechatPayError('The WeChat Pay keys changed while encrypting the split: try again');
        serial = enc.serial;
        out[field] = enc.ciphertext;
      }
      receivers.push(out);
    }
    serial ??= (await this.certificates.encryptSensitiveWithRefresh('')).serial;
    return { receivers, serial };
  }

  /** Sends a call; WeChat's refusals become `WechatPayProfitSharingError`. `reAdded` answers "操作已完成" as success. */
  private async send<T, Path extends string>(endpoint: WechatPayEndpoint<Path>, call: WechatPayEndpointCall<Path>, reAdded?: object): Promise<T> {
    try {
      return (await this.client.call<T, Path>(endpoint, call)).data;
    } catch (err) {
      if (!(err instanceof WechatPayApiError)) throw err;
      // An ecommerce platform re-adding a receiver may get this instead of a 200 [3P blog].
      if (reAdded && /操作已完成，?无需二次请求/.test(err.wechatMessage)) return reAdded as T;
      if (err.status >= 500 || err.status === 401) throw err;
      throw new WechatPayProfitSharingError(err);
    }
  }
}

function sensitiveLength(value: string | undefined, field: string, problems: WechatPayFieldProblem[]): void {
  if (value !== undefined && Buffer.byteLength(value, 'utf8') > MAX_SENSITIVE_BYTES) problems.push({ field, message: `is too long to encrypt (at most ${MAX_SENSITIVE_BYTES} UTF-8 bytes)` });
}

function oneSplitId(x: { order_id?: string; out_order_no?: string }, problems: WechatPayFieldProblem[]): void {
  if ((x.order_id === undefined) === (x.out_order_no === undefined)) problems.push({ field: 'out_order_no', message: 'give exactly one of order_id and out_order_no (of the split)' });
}
