/**
 * The refunds book: create, query, and the application for an abnormal refund whose bank details
 * arrive RSA-OAEP encrypted for the key its `Wechatpay-Serial` names; completion sends REFUND.*; tooling lists
 * refunds and completes a PROCESSING one.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { REFUND_ENDPOINTS } from '../../refunds/refunds.endpoints';
import { SIMULATOR_ERRORS, SimulatorHttpError } from '../simulator-errors';
import { type CompleteRefundOptions, type SimulatedAbnormalRefundApplication, type SimulatedRefund, SimulatorRefundBook } from '../simulator-refunds';
import { json, type SimulatorBook, type SimulatorBookContext, type SimulatorRoute, toolingJson, type ToolingRoute } from '../simulator-routes';
import { decryptSensitiveField, type SimulatorKeyring } from '../simulator-signing';
import type { OrdersBook } from './orders.book';
import { validateAbnormalRefundBody, validateRefundBody, validateRefundQuery } from './refunds.validation';

/** Options of the refunds book. */
export interface RefundsBookOptions {
  /** 'auto': refunds become SUCCESS after `delayMs`; 'manual': they stay PROCESSING until completed. */
  mode: 'auto' | 'manual';
  delayMs: number;
  /** The provider's product: a 平台收付通 provider's partner refunds are refused unless `domesticRefunds` is 'allow'. */
  product: 'ecommerce' | 'partner';
  domesticRefunds: 'reject' | 'allow';
  /** How ecommerce refunds spell the closed status. */
  closedSpelling: 'CLOSED' | 'CLOSE';
}

/**
 * An abnormal refund application as received: the sensitive fields decrypted with the private key of the key that
 * `Wechatpay-Serial` names (both refund families send the same body).
 */
export function abnormalApplication(keyring: SimulatorKeyring, body: Record<string, unknown>, headers: IncomingHttpHeaders): Omit<SimulatedAbnormalRefundApplication, 'appliedAt'> {
  const header = headers['wechatpay-serial'];
  const serial = Array.isArray(header) ? header[0] : header;
  return {
    type: body.type as 'USER_BANK_CARD' | 'MERCHANT_BANK_CARD',
    bankType: body.bank_type as string | undefined,
    bankAccount: decryptSensitiveField(keyring, serial, 'bank_account', body.bank_account),
    realName: decryptSensitiveField(keyring, serial, 'real_name', body.real_name),
    serial,
  };
}

/** Refunds of one simulated provider. */
export class RefundsBook implements SimulatorBook {
  readonly name = 'refunds';
  /** The refund state machine (also read by the bills book). */
  readonly state: SimulatorRefundBook;

  constructor(
    private readonly ctx: SimulatorBookContext,
    orders: OrdersBook,
    private readonly options: RefundsBookOptions,
  ) {
    this.state = new SimulatorRefundBook({
      clock: () => ctx.clock(),
      orders: orders.state,
      mode: options.mode,
      delayMs: options.delayMs,
      sleep: (ms) => ctx.sleep(ms),
      closed: () => ctx.closed(),
      closedSpelling: options.closedSpelling,
      completed: (refund, order) => {
        ctx.notify(refund.notifyUrl ?? order?.notifyUrl ?? '', `REFUND.${refund.status}`, this.state.notificationResource(refund));
        ctx.changed();
      },
    });
  }

  routes(): SimulatorRoute[] {
    const E = REFUND_ENDPOINTS;
    const routes: SimulatorRoute[] = [
      {
        endpoint: E.create,
        handle: ({ body }) => {
          validateRefundBody(body);
          return json(200, this.state.create(body));
        },
      },
      {
        endpoint: E.queryByOutRefundNo,
        handle: ({ params, query }) => json(200, this.state.query(validateRefundQuery(params.out_refund_no, query), params.out_refund_no)),
      },
      {
        endpoint: E.applyAbnormalRefund,
        handle: ({ params, body, headers }) => {
          validateAbnormalRefundBody(params.refund_id, body);
          const application = abnormalApplication(this.ctx.keyring(), body, headers);
          return json(200, this.state.applyAbnormal(params.refund_id, body.sub_mchid as string, body.out_refund_no as string, application));
        },
      },
    ];
    // The product gate comes first: a 平台收付通 provider is on the wrong family whatever the body says.
    return routes.map((route) => ({
      ...route,
      handle: (ctx) => {
        if (this.options.product === 'ecommerce' && this.options.domesticRefunds === 'reject') throw new SimulatorHttpError(SIMULATOR_ERRORS.PRODUCT_IS_ECOMMERCE);
        return route.handle(ctx);
      },
    }));
  }

  tooling(): ToolingRoute[] {
    return [
      { method: 'GET', path: '/__sim/refunds', handle: () => toolingJson(200, this.state.list().map((r) => this.state.refundJson(r))) },
      {
        method: 'POST',
        path: '/__sim/refunds/complete',
        handle: ({ body }) => {
          const status = body.status === undefined ? undefined : (String(body.status) as CompleteRefundOptions['status']);
          const sub = typeof body.sub_mchid === 'string' ? body.sub_mchid : undefined;
          let refund: SimulatedRefund;
          try {
            refund = this.state.complete(String(body.out_refund_no ?? ''), { status, sub_mchid: sub });
          } catch (e) {
            throw new SimulatorHttpError(SIMULATOR_ERRORS.PARAM_ERROR, (e as Error).message);
          }
          return toolingJson(200, this.state.refundJson(refund));
        },
      },
    ];
  }

  exportState(): Record<string, unknown> {
    return { refunds: this.state.exportState() };
  }

  /** Files written before refunds existed have no `refunds` key. */
  importState(state: Readonly<Record<string, unknown>>): void {
    this.state.importState((state.refunds as SimulatedRefund[] | undefined) ?? []);
  }
}
