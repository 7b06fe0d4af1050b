/**
 * The bills book: the trade, fund-flow and encrypted sub-merchant fund-flow bills built from the orders and
 * refunds books, and the download of the file behind a `download_url`, which is the one answer sent unsigned.
 */
import type { KeyObject } from 'node:crypto';
import { BILL_ENDPOINTS } from '../../bills/bills.endpoints';
import { type SimulatorBillApplication, SimulatorBillOffice, type SimulatorBillOptions } from '../simulator-bills';
import { type ApiAnswer, json, type SimulatorBook, type SimulatorBookContext, type SimulatorRoute } from '../simulator-routes';
import type { OrdersBook } from './orders.book';
import type { RefundsBook } from './refunds.book';

/** The apply answer of a bill, with its keys in the order of the spec's example. */
function billAnswer(a: SimulatorBillApplication): ApiAnswer {
  return json(200, { hash_type: a.hash_type, hash_value: a.hash_value, download_url: a.download_url });
}

/** Bills of one simulated provider. */
export class BillsBook implements SimulatorBook {
  readonly name = 'bills';
  /** The bill files and their download tokens. */
  readonly office: SimulatorBillOffice;

  constructor(ctx: SimulatorBookContext, orders: OrdersBook, refunds: RefundsBook, merchantPublicKey: KeyObject, options: SimulatorBillOptions) {
    this.office = new SimulatorBillOffice({
      clock: () => ctx.clock(),
      baseUrl: () => ctx.baseUrl(),
      orders: () => orders.state.list(),
      refunds: () => refunds.state.list(),
      order: (sub, no) => orders.state.lookup(sub, { outTradeNo: no }),
      checkSubMerchant: (sub) => void orders.state.checkSubMerchant(sub),
      merchantPublicKey: () => merchantPublicKey,
      options,
    });
  }

  routes(): SimulatorRoute[] {
    const E = BILL_ENDPOINTS;
    return [
      { endpoint: E.tradeBill, handle: ({ auth, query }) => billAnswer(this.office.applyTradeBill(query, auth.mchid)) },
      { endpoint: E.fundFlowBill, handle: ({ auth, query }) => billAnswer(this.office.applyFundFlowBill(query, auth.mchid)) },
      { endpoint: E.subMerchantFundFlowBill, handle: ({ auth, query }) => json(200, this.office.applySubMerchantFundFlowBill(query, auth.mchid)) },
      {
        endpoint: E.download,
        // The file belongs to the merchant that applied: another one gets 403 NO_AUTH rather than 401.
        checksMchidItself: true,
        handle: ({ auth, query }) => {
          const { bytes, gzip, encrypted } = this.office.download(query, auth.mchid);
          return { status: 200, body: '', internalCode: 0, file: { bytes, gzip, encrypted } };
        },
      },
    ];
  }
}
