import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { PartnerRefundResource } from './partner-refund-resource.dto';
import { PartnerTransactionResource } from './partner-transaction-resource.dto';
import { PartnerTransaction } from '../../orders/dto/partner-transaction.dto';

const transaction = {
  sp_appid: 'wx8888888888888888',
  sp_mchid: '1230000109',
  sub_mchid: '1900000109',
  out_trade_no: 'T20240520001',
  transaction_id: '4200000000202405200000000001',
  trade_type: 'NATIVE',
  trade_state: 'SUCCESS',
  success_time: '2024-05-20T13:29:35+08:00',
  amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
};

/** Property paths class-validator reports, with class-validator's own evaluation. */
function invalid(cls: new () => object, plain: object): string[] {
  const errors = validateSync(plainToInstance(cls, plain) as object);
  const out: string[] = [];
  const walk = (list: typeof errors, prefix: string): void => {
    for (const e of list) {
      const path = prefix ? `${prefix}.${e.property}` : e.property;
      if (e.constraints) out.push(path);
      walk(e.children ?? [], path);
    }
  };
  walk(errors, '');
  return out.sort();
}

function without(value: Record<string, unknown>, field: string): Record<string, unknown> {
  const { [field]: _dropped, ...rest } = value;
  return rest;
}

describe('notification resource DTOs: required fields are required', () => {
  it('accepts a complete transaction resource', () => {
    expect(invalid(PartnerTransactionResource, transaction)).toEqual([]);
  });

  it.each(['transaction_id', 'amount', 'out_trade_no', 'sub_mchid', 'sp_mchid', 'trade_state'])('refuses a transaction resource without %s', (field) => {
    expect(invalid(PartnerTransactionResource, without(transaction, field))).toEqual([field]);
  });

  it('refuses an amount without total', () => {
    expect(invalid(PartnerTransactionResource, { ...transaction, amount: { currency: 'CNY' } })).toEqual(['amount.total']);
  });

  it('keeps transaction_id optional in a query answer (an unpaid order has none), but amount required', () => {
    expect(invalid(PartnerTransaction, { ...without(transaction, 'transaction_id'), trade_state: 'NOTPAY' })).toEqual([]);
    expect(invalid(PartnerTransaction, without(transaction, 'amount'))).toEqual(['amount']);
  });

  it('refuses a refund resource without amount or refund_id', () => {
    const refund = {
      sp_mchid: '1230000109',
      sub_mchid: '1900000109',
      transaction_id: '4200000000202405200000000001',
      out_trade_no: 'T20240520001',
      refund_id: '50000000382019052709732678859',
      out_refund_no: 'R20240520001',
      refund_status: 'SUCCESS',
      amount: { total: 100, refund: 100 },
    };
    expect(invalid(PartnerRefundResource, refund)).toEqual([]);
    expect(invalid(PartnerRefundResource, without(refund, 'amount'))).toEqual(['amount']);
    expect(invalid(PartnerRefundResource, without(refund, 'refund_id'))).toEqual(['refund_id']);
  });
});
