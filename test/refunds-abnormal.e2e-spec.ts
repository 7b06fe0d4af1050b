/**
 * Abnormal refund application (发起异常退款, `POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund`) end
 * to end: WechatPayRefundsService.applyAbnormalRefund() against the simulator over real HTTP with real keys. The
 * simulator decrypts bank_account / real_name with the private key of the key named by Wechatpay-Serial, so a
 * decrypted value equal to the input proves the client encrypted it for the right key, in each verification mode.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ApplyAbnormalRefundRequest,
  WechatPayApiError,
  WechatPayOrdersService,
  WechatPayRefundsService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import { SIMULATOR_ERRORS, type SimulatorOptions } from 'nestjs-wechat-partner-pay/testing';
import { type SimApp, startSimApp } from './helpers/sim-app';

const SUB = '1900000109';
const CARD = '6222020200112233445';
const NAME = '张三';
const APPLY = /\/apply-abnormal-refund$/;
const running: Array<{ close(): Promise<void> }> = [];
let seq = 0;
let notifyUrl: string;
let closeReceiver: () => Promise<void>;

function id(prefix: string): string {
  return `${prefix}${Date.now()}${String(++seq).padStart(3, '0')}`;
}

async function start(overrides: Parameters<typeof startSimApp>[0] = {}, simOptions: SimulatorOptions = {}): Promise<SimApp> {
  const app = await startSimApp(overrides, { refundMode: 'manual', notificationTimeScale: 0, ...simOptions });
  running.push(app);
  return app;
}

/** A paid order, refunded in full; returns the refund as created (PROCESSING). */
async function refunded({ sim, ref }: SimApp): Promise<{ refund_id: string; out_refund_no: string }> {
  const outTradeNo = id('T');
  await ref.get(WechatPayOrdersService).nativePrepay({ sub_mchid: SUB, description: '异常退款', out_trade_no: outTradeNo, amount: { total: 500 }, notify_url: notifyUrl });
  await sim.pay(outTradeNo, { sub_mchid: SUB });
  return ref.get(WechatPayRefundsService).create({
    sub_mchid: SUB,
    out_trade_no: outTradeNo,
    out_refund_no: id('R'),
    notify_url: notifyUrl,
    amount: { refund: 500, total: 500, currency: 'CNY' },
  });
}

/** A refund that the bank bounced: ABNORMAL, as the REFUND.ABNORMAL notification says. */
async function abnormal(app: SimApp): Promise<{ refund_id: string; out_refund_no: string }> {
  const r = await refunded(app);
  app.sim.completeRefund(r.out_refund_no, { status: 'ABNORMAL', sub_mchid: SUB });
  return r;
}

function toUserCard(out_refund_no: string): ApplyAbnormalRefundRequest {
  return { sub_mchid: SUB, out_refund_no, type: 'USER_BANK_CARD', bank_type: 'ICBC_DEBIT', bank_account: CARD, real_name: NAME };
}

function applications(app: SimApp): number {
  return app.sim.requests.filter((r) => APPLY.test(r.path.split('?')[0])).length;
}

beforeAll(async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  notifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  closeReceiver = () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

afterAll(() => closeReceiver());

describe('applyAbnormalRefund (public key mode)', () => {
  it('ABNORMAL → apply to the payer card → PROCESSING → SUCCESS, with REFUND.ABNORMAL then REFUND.SUCCESS', async () => {
    const app = await start();
    const { sim, ref } = app;
    const refunds = ref.get(WechatPayRefundsService);
    const r = await abnormal(app);
    expect((await refunds.queryByOutRefundNo(r.out_refund_no, SUB)).status).toBe('ABNORMAL');

    const applied = await refunds.applyAbnormalRefund(r.refund_id, toUserCard(r.out_refund_no));
    expect(applied).toMatchObject({ refund_id: r.refund_id, out_refund_no: r.out_refund_no, status: 'PROCESSING', channel: 'OTHER_BANKCARD' });
    expect(applied.success_time).toBeUndefined();

    // The simulator decrypted the fields with the private key of the public key the client named.
    const stored = sim.getRefund(r.out_refund_no, SUB)!;
    expect(stored.abnormalRefund).toMatchObject({ type: 'USER_BANK_CARD', bankType: 'ICBC_DEBIT', bankAccount: CARD, realName: NAME, serial: sim.credentials.publicKeyId });

    sim.completeRefund(r.out_refund_no, { sub_mchid: SUB });
    const done = await refunds.queryByOutRefundNo(r.out_refund_no, SUB);
    expect(done.status).toBe('SUCCESS');
    expect(done.success_time).toEqual(expect.any(String));

    await sim.notifications.flush();
    const events = sim.deliveries.filter((d) => !d.probe && d.status === 204).map((d) => d.eventType);
    expect(events).toEqual(['TRANSACTION.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.SUCCESS']);
  });

  it("in the simulator's auto mode the applied refund completes by itself", async () => {
    const app = await start({}, { refundMode: 'auto', refundDelayMs: 300 });
    const r = await abnormal(app); // completed as ABNORMAL before the 300 ms timer, which then finds nothing to do
    await app.ref.get(WechatPayRefundsService).applyAbnormalRefund(r.refund_id, toUserCard(r.out_refund_no));
    await app.sim.notifications.flush();
    expect(app.sim.getRefund(r.out_refund_no, SUB)?.status).toBe('SUCCESS');
  });

  it('MERCHANT_BANK_CARD needs no bank fields', async () => {
    const app = await start();
    const r = await abnormal(app);
    const applied = await app.ref.get(WechatPayRefundsService).applyAbnormalRefund(r.refund_id, { sub_mchid: SUB, out_refund_no: r.out_refund_no, type: 'MERCHANT_BANK_CARD' });
    expect(applied).toMatchObject({ status: 'PROCESSING', channel: 'ORIGINAL', user_received_account: '商户结算银行账户' });
    expect(app.sim.getRefund(r.out_refund_no, SUB)?.abnormalRefund).toMatchObject({ type: 'MERCHANT_BANK_CARD', bankAccount: undefined, realName: undefined });
  });

  it('a refund that is not ABNORMAL is refused with the simulator error, without leaking the fields', async () => {
    const app = await start();
    const r = await refunded(app); // PROCESSING
    const err = await app.ref
      .get(WechatPayRefundsService)
      .applyAbnormalRefund(r.refund_id, toUserCard(r.out_refund_no))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayApiError);
    expect(err).toMatchObject({ status: SIMULATOR_ERRORS.REFUND_NOT_ABNORMAL.status, code: SIMULATOR_ERRORS.REFUND_NOT_ABNORMAL.code, retryable: false });
    expect(SIMULATOR_ERRORS.REFUND_NOT_ABNORMAL.verified).toBe(false); // UNVERIFIED choice
    expect(JSON.stringify({ message: (err as Error).message, detail: (err as WechatPayApiError).detail })).not.toMatch(new RegExp(`${CARD}|${NAME}`));
    expect(app.sim.getRefund(r.out_refund_no, SUB)?.abnormalRefund).toBeUndefined();
  });

  it('an unknown refund_id, or one of another out_refund_no, is 404 RESOURCE_NOT_EXISTS', async () => {
    const app = await start();
    const refunds = app.ref.get(WechatPayRefundsService);
    const r = await abnormal(app);
    for (const [refundId, outRefundNo] of [
      ['50300000000000000000000000000', r.out_refund_no],
      [r.refund_id, 'R_OTHER_1'],
    ]) {
      const err = await refunds.applyAbnormalRefund(refundId, toUserCard(outRefundNo)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayApiError);
      expect(err).toMatchObject({ status: 404, code: 'RESOURCE_NOT_EXISTS' });
    }
    expect(app.sim.getRefund(r.out_refund_no, SUB)?.status).toBe('ABNORMAL');
  });

  it('validates before sending anything and never shows the plain text', async () => {
    const app = await start();
    const refunds = app.ref.get(WechatPayRefundsService);
    const r = await abnormal(app);
    const cases: Array<[string, ApplyAbnormalRefundRequest, string[]]> = [
      ['50300000000000000000000000000', { sub_mchid: SUB, out_refund_no: r.out_refund_no, type: 'USER_BANK_CARD' }, ['bank_type', 'bank_account', 'real_name']],
      ['50300000000000000000000000000', { ...toUserCard(r.out_refund_no), real_name: '' }, ['real_name']],
      ['5030/../x', toUserCard(r.out_refund_no), ['refund_id']],
      ['50300000000000000000000000000', { ...toUserCard(r.out_refund_no), type: 'BALANCE' as never }, ['type']],
      ['50300000000000000000000000000', { ...toUserCard(r.out_refund_no), sub_mchid: 'abc' }, ['sub_mchid']],
      ['50300000000000000000000000000', { ...toUserCard(r.out_refund_no), bank_account: `${CARD} ` + '9'.repeat(220) }, ['bank_account']],
      ['50300000000000000000000000000', { ...toUserCard(r.out_refund_no), bank_type: 'A_VERY_LONG_BANK_TYPE' }, ['bank_type']],
      ['50300000000000000000000000000', { ...toUserCard(r.out_refund_no), real_name: '  ' }, ['real_name']],
      ['50300000000000000000000000000', { ...toUserCard(r.out_refund_no), extra: 1 } as ApplyAbnormalRefundRequest, ['extra']],
    ];
    for (const [refundId, req, fields] of cases) {
      const err = await refunds.applyAbnormalRefund(refundId, req).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayValidationError);
      expect((err as WechatPayValidationError).problems.map((p) => p.field)).toEqual(fields);
      expect((err as Error).message).not.toMatch(new RegExp(`${CARD}|${NAME}`));
    }
    expect(applications(app)).toBe(0);
  });
});

describe('applyAbnormalRefund encrypts for the key of the verification mode', () => {
  it('platform certificate mode: the newest platform certificate, its serial as Wechatpay-Serial', async () => {
    const app = await start({ verification: { mode: 'platformCertificate' } });
    const r = await abnormal(app);
    await app.ref.get(WechatPayRefundsService).applyAbnormalRefund(r.refund_id, toUserCard(r.out_refund_no));
    const certSerials = app.sim.credentials.platformCertificates.map((c) => c.serialNo);
    const stored = app.sim.getRefund(r.out_refund_no, SUB)!.abnormalRefund!;
    expect(certSerials).toContain(stored.serial);
    expect(stored.serial).not.toBe(app.sim.credentials.publicKeyId);
    expect(stored).toMatchObject({ bankAccount: CARD, realName: NAME });
  });

  it("'both' mode preferring platform certificates uses the certificate; preferring the public key uses the public key", async () => {
    for (const prefer of ['platformCertificate', 'publicKey'] as const) {
      const app = await start((sim) => ({
        verification: { mode: 'both', publicKeyId: sim.credentials.publicKeyId, publicKey: sim.credentials.publicKeyPem, prefer },
      }));
      const r = await abnormal(app);
      await app.ref.get(WechatPayRefundsService).applyAbnormalRefund(r.refund_id, toUserCard(r.out_refund_no));
      const stored = app.sim.getRefund(r.out_refund_no, SUB)!.abnormalRefund!;
      expect(stored).toMatchObject({ bankAccount: CARD, realName: NAME });
      if (prefer === 'publicKey') expect(stored.serial).toBe(app.sim.credentials.publicKeyId);
      else expect(app.sim.credentials.platformCertificates.map((c) => c.serialNo)).toContain(stored.serial);
    }
  });
});
