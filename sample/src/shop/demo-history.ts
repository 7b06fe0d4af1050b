import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { latestBillDate } from '../bills/shop-bills.service';
import { SampleSettings } from '../settings';
import { EmbeddedSimulator } from '../wechat-pay/embedded-simulator';
import { NOTIFY_PATH, notifyBaseUrl } from '../wechat-pay/wechat-pay.config';
import { ShopRefundsService } from './shop-refunds.service';
import { newOutTradeNo, ShopService } from './shop.service';

/** One sale of the demo history: Beijing time of day, and the refund that followed, if any. */
interface DemoSale {
  at: string;
  productId: string;
  subMchid: string;
  /** fen refunded; 'all' for a full refund. */
  refund?: number | 'all';
  refundAt?: string;
}

const SALES: readonly DemoSale[] = [
  { at: '10:12:05', productId: 'mug', subMchid: '1900000109' },
  { at: '14:40:31', productId: 'lamp', subMchid: '1900000110', refund: 'all', refundAt: '16:02:10' },
  { at: '19:05:48', productId: 'mug', subMchid: '1900000109', refund: 1000, refundAt: '20:30:00' },
];

/**
 * PLANTED ON PURPOSE, so that the first "Reconcile yesterday" has something to report: a payment of that day that
 * the shop never recorded. It is ordered at WeChat Pay by "another system" of the platform: one signed request
 * straight to the simulator (neither the shop nor its WeChat Pay module sees it, so there is no row of it and nothing
 * watches it), then paid with its notification lost, so nothing ever tells the shop. The trade bill has it, the
 * shop's books do not: the report lists it as `paid_not_local` ("paid at WeChat Pay, not in the shop's books"), as
 * it would an order whose local write was lost. It is the only difference: everything else of the day matches.
 */
const PLANTED = {
  at: '21:17:40',
  subMchid: '1900000110',
  description: 'Planted: a sale the shop never recorded',
  total: 2500,
} as const;

/**
 * Simulator mode, first start only: the shop sells and refunds a few things "yesterday" (the latest day WeChat Pay
 * has a bill for), so that the bill card shows real rows right away. Everything goes the normal way — the shop's
 * services, the WeChat Pay module, the simulator — with the simulator's clock (which the module and the shop share)
 * set back for the moment. The notifications of these sales arrive once the app listens, and change nothing.
 */
@Injectable()
export class DemoHistory implements OnApplicationBootstrap {
  private readonly logger = new Logger('Sample');

  constructor(
    private readonly embedded: EmbeddedSimulator,
    private readonly settings: SampleSettings,
    private readonly shop: ShopService,
    private readonly refunds: ShopRefundsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const sim = this.embedded.simulator;
    if (!sim || !this.settings.demoHistory || sim.listOrders().length > 0) return;
    const realClock = this.settings.simulator.clock ?? Date.now;
    const day = latestBillDate(realClock(), this.settings.billReadyHour);
    const at = (time: string): void => {
      const shift = Date.parse(`${day}T${time}+08:00`) - realClock();
      sim.setClock(() => realClock() + shift);
    };
    try {
      for (const sale of SALES) {
        at(sale.at);
        const { order } = await this.shop.create(
          { productId: sale.productId, subMchid: sale.subMchid, scene: 'native' },
          '127.0.0.1',
        );
        await sim.pay(order.out_trade_no, { sub_mchid: order.sub_mchid });
        // Recorded by a query now; the notification, sent before the app listens, is retried and then a duplicate.
        await this.shop.check(order.out_trade_no);
        if (sale.refund === undefined || !sale.refundAt) continue;
        at(sale.refundAt);
        await this.refunds.refund(order.out_trade_no, sale.refund === 'all' ? undefined : sale.refund);
      }
      // The planted difference (see PLANTED): at WeChat Pay only, its notification lost.
      at(PLANTED.at);
      const planted = newOutTradeNo(sim.now());
      const path = '/v3/pay/partner/transactions/native';
      const body = JSON.stringify({
        sp_appid: sim.credentials.spAppid,
        sp_mchid: sim.credentials.spMchid,
        sub_mchid: PLANTED.subMchid,
        description: PLANTED.description,
        out_trade_no: planted,
        notify_url: `${notifyBaseUrl(this.settings, this.embedded)}${NOTIFY_PATH}`,
        amount: { total: PLANTED.total },
      });
      const res = await fetch(`${sim.baseUrl}${path}`, {
        method: 'POST',
        headers: {
          Authorization: sim.authorization('POST', path, body),
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body,
      });
      if (!res.ok) throw new Error(`the simulator refused the planted order: HTTP ${res.status} ${await res.text()}`);
      await sim.pay(planted, { sub_mchid: PLANTED.subMchid, loseNotification: true });
      this.logger.log(
        `Demo history: ${SALES.length} orders paid on ${day} (2 refunded), for the trade bill of that day, and ` +
          `one payment planted at WeChat Pay only (${planted}), for "Reconcile yesterday" to find`,
      );
    } finally {
      sim.setClock(realClock);
    }
  }
}
