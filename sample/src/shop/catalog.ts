import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EmbeddedSimulator } from '../wechat-pay/embedded-simulator';

/** A product of the demo shop. Prices are integer fen (分), as WeChat Pay counts them. */
export interface Product {
  id: string;
  name: string;
  price: number;
}

/** A sub-merchant (特约商户) the provider takes payments for. */
export interface SubMerchant {
  subMchid: string;
  name: string;
}

/** The static product list. Prices are looked up here on the server, never taken from the browser. */
export const PRODUCTS: readonly Product[] = [
  { id: 'tea', name: 'Oolong tea 乌龙茶', price: 1 },
  { id: 'mug', name: 'Ceramic mug 马克杯', price: 3900 },
  { id: 'lamp', name: 'Desk lamp 台灯', price: 12900 },
];

/** Products and sub-merchants offered by the cashier. */
@Injectable()
export class ShopCatalog {
  readonly products = PRODUCTS;
  readonly subMerchants: readonly SubMerchant[];

  constructor(config: ConfigService, embedded: EmbeddedSimulator) {
    // The simulator knows its sub-merchants, including one that has not authorized the provider: choosing it shows
    // how a WeChat Pay error (403 NO_AUTH) reaches the cashier.
    this.subMerchants = embedded.simulator
      ? embedded.simulator.credentials.subMerchants.map((s) => ({
          subMchid: s.subMchid,
          name: s.name ?? s.subMchid,
        }))
      : parseSubMerchants(config.get<string>('WECHATPAY_SUB_MCHIDS') ?? '');
  }

  product(id: string): Product | undefined {
    return this.products.find((p) => p.id === id);
  }

  subMerchant(subMchid: string): SubMerchant | undefined {
    return this.subMerchants.find((s) => s.subMchid === subMchid);
  }
}

/** `1900000109:Shop A,1900000110:Shop B` → sub-merchants (the name is optional). */
export function parseSubMerchants(raw: string): SubMerchant[] {
  const list = raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const [subMchid, ...name] = item.split(':');
      if (!/^\d{1,32}$/.test(subMchid.trim()))
        throw new Error(`WECHATPAY_SUB_MCHIDS: "${subMchid}" is not a sub-merchant id (digits)`);
      return { subMchid: subMchid.trim(), name: name.join(':').trim() || subMchid.trim() };
    });
  if (!list.length)
    throw new Error(
      'WECHATPAY_SUB_MCHIDS is required with real credentials: the sub-merchants to sell for, e.g. 1900000109:My shop',
    );
  return list;
}
