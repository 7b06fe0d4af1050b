import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import { PartnerRefundResource } from '../../notifications/dto/partner-refund-resource.dto';
import { PartnerTransactionResource } from '../../notifications/dto/partner-transaction-resource.dto';
import { readResource, type ResourceClass } from './resource-reader';

const transaction = {
  sp_appid: 'wx8888888888888888',
  sp_mchid: '1230000109',
  sub_mchid: '1900000109',
  out_trade_no: 'T20240520000001',
  transaction_id: '4200000000202405200000000001',
  trade_type: 'NATIVE',
  trade_state: 'SUCCESS',
  success_time: '2024-05-20T13:29:35+08:00',
  payer: { sp_openid: 'o1' },
  amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
  scene_info: { device_id: 'D1' },
  promotion_detail: [{ coupon_id: 'C1', amount: 1 }],
};

const refund = {
  sp_mchid: '1230000109',
  sub_mchid: '1900000109',
  transaction_id: '4200000000202405200000000001',
  out_trade_no: 'T20240520000001',
  refund_id: '50000000382019052709732678859',
  out_refund_no: 'RF1',
  refund_status: 'SUCCESS',
  amount: { total: 100, refund: 100, payer_total: 100, payer_refund: 100 },
};

/** What class-transformer and class-validator alone decide. */
function reference<T extends object>(
  cls: ResourceClass<T>,
  plain: Record<string, unknown>,
): { ok: boolean; value: T } {
  const value = plainToInstance(cls, plain);
  return { ok: validateSync(value, { forbidUnknownValues: true }).length === 0, value };
}

const anyValue = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constantFrom('', 'SUCCESS', 'CLOSED', 'NOTPAY', '__proto__'),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(
    fc.constantFrom('total', 'refund', 'sp_openid', 'x'),
    fc.oneof(fc.integer(), fc.string({ maxLength: 2 })),
    { maxKeys: 3 },
  ),
);

function mutations(base: Record<string, unknown>) {
  const paths = Object.entries(base).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) ? [[k], ...Object.keys(v).map((c) => [k, c])] : [[k]],
  );
  return fc
    .array(fc.tuple(fc.constantFrom(...paths, ['unknown_field'], ['amount', 'extra']), anyValue), {
      maxLength: 3,
    })
    .map((edits) => {
      const plain = structuredClone(base) as Record<string, unknown>;
      for (const [path, value] of edits) {
        const parent = path.length === 2 ? plain[path[0]] : plain;
        if (!parent || typeof parent !== 'object' || Array.isArray(parent)) continue;
        if (value === undefined) delete (parent as Record<string, unknown>)[path[path.length - 1]];
        else (parent as Record<string, unknown>)[path[path.length - 1]] = value;
      }
      return plain;
    });
}

describe('readResource', () => {
  it.each([
    ['PartnerTransactionResource', PartnerTransactionResource, transaction],
    ['PartnerRefundResource', PartnerRefundResource, refund],
  ] as const)(
    'decides exactly as plainToInstance + validateSync for %s, and builds the same instance',
    (_name, cls, base) => {
      fc.assert(
        fc.property(mutations(base), (mutated) => {
          // Resources come from JSON.parse (and structuredClone would build objects of another realm under Jest).
          const json = JSON.stringify(mutated);
          const expected = reference(cls as ResourceClass, JSON.parse(json));
          const got = readResource(cls as ResourceClass, JSON.parse(json));
          expect(got.ok).toBe(expected.ok);
          if (got.ok) expect(got.value).toStrictEqual(expected.value);
        }),
        { numRuns: 400 },
      );
    },
  );

  it('keeps unknown fields (WeChat Pay adds fields over time) and nests DTO instances', () => {
    const got = readResource(PartnerTransactionResource, {
      ...JSON.parse(JSON.stringify(transaction)),
      new_field: 1,
    });
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.value).toBeInstanceOf(PartnerTransactionResource);
    expect((got.value as unknown as Record<string, unknown>).new_field).toBe(1);
    expect(got.value.amount.constructor.name).toBe('TransactionAmount');
  });

  it('leaves a __proto__ key to class-transformer and class-validator', () => {
    const json = JSON.stringify(transaction).replace('{', '{"__proto__":{"trade_state":"SUCCESS"},');
    expect(readResource(PartnerTransactionResource, JSON.parse(json)).ok).toBe(
      reference(PartnerTransactionResource, JSON.parse(json)).ok,
    );
  });

  it('names invalid fields without their values', () => {
    const got = readResource(PartnerTransactionResource, {
      ...JSON.parse(JSON.stringify(transaction)),
      trade_state: 'PAID',
      amount: { total: 'secret-ish' },
    });
    expect(got).toEqual({ ok: false, invalidFields: ['trade_state', 'amount.total'] });
  });
});
