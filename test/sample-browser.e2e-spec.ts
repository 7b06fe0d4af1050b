/**
 * The sample's web cashier in real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): buy by
 * Native QR, pay on the simulator's page opened from the QR's link, see "paid" arrive; close an unpaid order.
 * Skipped when Chromium is absent, except with CI=true, where that is a failure.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beijingDate } from 'nestjs-wechat-partner-pay';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type RunningSample, startSample, waitFor } from './helpers/sample-app';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, 'artifacts');
const available = existsSync(CHROMIUM);
const required = process.env.CI === 'true';

if (!available && !required) {
  // eslint-disable-next-line no-console
  console.warn(
    `Skipping the sample browser tests: ${CHROMIUM} is absent (apt-get install chromium). With CI=true they fail instead.`,
  );
}

(available || required ? describe : describe.skip)('sample cashier in headless Chromium', () => {
  let sample: RunningSample;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    if (!available)
      throw new Error(`${CHROMIUM} is required when CI=true: install Debian's chromium package`);
    // billReadyHour 0: the bill of yesterday exists whatever the hour (WeChat Pay: from 10:00 Beijing time).
    // demoHistory: the shop starts as `npm run sample` does, with yesterday's demo sales in the bill.
    // Settlement of profit sharing only when a test says so (sim.profitSharing.settle), never by the clock.
    sample = await startSample('express', {
      demoHistory: true,
      simulator: { billReadyHour: 0, profitSharing: { settlementDelayMs: 86_400_000 } },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // launch() gives every run a fresh temporary profile (--user-data-dir).
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    // The browser first: its open event streams would otherwise hold the app's connections.
    await browser?.close();
    await sample?.close();
  });

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1100, height: 1400 } });
    page = await context.newPage();
    pageErrors = [];
    // Script errors and CSP violations both end up here.
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`${m.text()} ${m.location().url}`);
    });
    await page.goto(`${sample.url}/`);
    await page.locator('#mode', { hasText: 'Simulator mode' }).waitFor();
  });

  afterEach(async () => {
    await context?.close();
    expect(pageErrors).toEqual([]);
  });

  async function buyMugByQr(): Promise<string> {
    await page.selectOption('#product', 'mug');
    await page.selectOption('#sub-mchid', '1900000109');
    await page.click('#buy-native');
    await page.locator('#order-state', { hasText: 'NOTPAY' }).waitFor();
    // The QR code is the module's SVG, loaded as an image.
    // A string, evaluated in the page: this project's TypeScript has no DOM types.
    await page.waitForFunction(
      "(() => { const img = document.getElementById('qr'); return !!img && img.complete && img.naturalWidth > 0; })()",
    );
    return (await page.textContent('#order-no')) ?? '';
  }

  /** Fails when the page is wider than the window: a phone would scroll sideways. */
  async function expectNoHorizontalOverflow(p: Page, what: string): Promise<void> {
    // A string, evaluated in the page: this project's TypeScript has no DOM types.
    const widths = (await p.evaluate(
      '({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })',
    )) as { scroll: number; inner: number };
    if (widths.scroll > widths.inner)
      throw new Error(`${what}: the page is ${widths.scroll} px wide in a ${widths.inner} px window`);
  }

  it.each([
    ['phone', 390, 844],
    ['desktop', 1280, 900],
  ])(
    'fits a %s screen (%i px): long pay params wrap, a paid order hides its pay controls and refunds live',
    async (name, width, height) => {
      const ctx = await browser.newContext({ viewport: { width, height } });
      try {
        const p = await ctx.newPage();
        p.on('pageerror', (e) => pageErrors.push(e.message));
        await p.goto(`${sample.url}/`);
        await p.locator('#mode', { hasText: 'Simulator mode' }).waitFor();
        // Yesterday's demo sales are in the bill on the first start.
        await p.click('#load-bill');
        await p.locator('#bill-rows tr').first().waitFor();
        expect(await p.locator('#bill-rows tr', { hasText: 'REFUND' }).count()).toBeGreaterThanOrEqual(2);
        expect(await p.getAttribute('#bill-message', 'class')).not.toBe('error');

        // JSAPI: the signed pay params are long base64 strings.
        await p.click('#buy-jsapi');
        await p.locator('#pay-params', { hasText: '"paySign"' }).waitFor();
        await expectNoHorizontalOverflow(p, `${name}, JSAPI pay params`);
        // H5: h5_url and redirect_url are long URLs.
        await p.click('#buy-h5');
        await p.locator('#h5-expiry', { hasText: 'valid for' }).waitFor();
        await expectNoHorizontalOverflow(p, `${name}, H5 links`);

        // Native, paid: the QR code and its link go away; refund half of it and watch it turn SUCCESS.
        await p.selectOption('#product', 'lamp');
        const h5No = (await p.textContent('#order-no')) ?? '';
        await p.click('#buy-native');
        // The H5 order was NOTPAY too: wait for the new order's card.
        await p.locator('#order-description', { hasText: 'Desk lamp' }).waitFor();
        expect(await p.textContent('#order-no')).not.toBe(h5No);
        await p.locator('#order-state', { hasText: 'NOTPAY' }).waitFor();
        expect(await p.isVisible('#qr')).toBe(true);
        await expectNoHorizontalOverflow(p, `${name}, Native QR code`);
        mkdirSync(ARTIFACTS, { recursive: true });
        await p.locator('#order').screenshot({ path: join(ARTIFACTS, `sample-${width}-pay.png`) });
        const no = (await p.textContent('#order-no')) ?? '';
        await sample.sim.pay(no);
        await p.locator('#order-state', { hasText: 'SUCCESS' }).waitFor();
        expect(await p.isHidden('#native')).toBe(true);
        expect(await p.isHidden('#params')).toBe(true);
        expect(await p.isHidden('#h5')).toBe(true);
        expect(await p.textContent('#order-paid-at')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
        expect(await p.textContent('#refund-all')).toBe('Refund all (¥129.00)');
        await p.fill('#refund-amount', '29.00');
        await p.click('#refund-part');
        await p.locator('#refund-rows tr', { hasText: '¥29.00' }).filter({ hasText: 'PROCESSING' }).waitFor();
        await p.locator('#refund-rows tr', { hasText: '¥29.00' }).filter({ hasText: 'SUCCESS' }).waitFor();
        expect(await p.textContent('#refund-all')).toBe('Refund all (¥100.00)');
        await p.locator('#recent-rows tr', { hasText: no }).filter({ hasText: '¥29.00' }).waitFor();
        expect(
          sample.sim
            .listRefunds()
            .filter((r) => r.outTradeNo === no)
            .map((r) => r.status),
        ).toEqual(['SUCCESS']);
        await expectNoHorizontalOverflow(p, `${name}, paid and refunded order`);

        // The platform's commission: refused before settlement as "try later", taken after it.
        expect(await p.textContent('#commission-info')).toContain('5 % of ¥129.00 = ¥6.45');
        await p.click('#take-commission');
        await p.locator('#commission-info', { hasText: '¥6.45 · WAITING' }).waitFor();
        expect(await p.isEnabled('#take-commission')).toBe(true);
        await expectNoHorizontalOverflow(p, `${name}, commission waiting for settlement`);
        const tx = sample.sim.transaction('1900000109', no);
        sample.sim.profitSharing.settle(tx?.transaction_id as string);
        await p.click('#take-commission');
        await p.locator('#commission-info', { hasText: '¥6.45 · FINISHED (SUCCESS)' }).waitFor();
        expect(await p.isDisabled('#take-commission')).toBe(true);
        const book = sample.sim.profitSharing.balances().find((b) => b.sub_mchid === '1900000109');
        const balanceRow = p.locator('#balances-rows tr', { hasText: '1900000109' });
        await balanceRow.filter({ hasText: `¥${((book?.available ?? 0) / 100).toFixed(2)}` }).waitFor();
        await expectNoHorizontalOverflow(p, `${name}, commission taken and balances`);
        await p.locator('#balances').screenshot({ path: join(ARTIFACTS, `sample-${width}-balances.png`) });

        mkdirSync(ARTIFACTS, { recursive: true });
        await p.screenshot({ path: join(ARTIFACTS, `sample-${width}.png`), fullPage: true });

        // The simulator's cashier page, as the payer's phone shows it, and the state it sets.
        await p.click('#buy-native');
        await p.locator('#order-state', { hasText: 'NOTPAY' }).waitFor();
        const [payPage] = await Promise.all([ctx.waitForEvent('page'), p.click('#qr')]);
        await payPage.waitForLoadState();
        expect(await payPage.getAttribute('link[rel="icon"]', 'href')).toMatch(/^data:image\/svg\+xml,/);
        await payPage.click('#sim-cancel');
        await payPage.locator('#sim-result', { hasText: 'cancelled' }).waitFor();
        expect(await payPage.textContent('#sim-state')).toBe('NOTPAY');
        await payPage.click('#sim-pay');
        await payPage.locator('#sim-state', { hasText: 'SUCCESS' }).waitFor();
        expect(await payPage.isDisabled('#sim-pay')).toBe(true);
        await expectNoHorizontalOverflow(payPage, `${name}, simulator cashier`);
        await payPage.screenshot({ path: join(ARTIFACTS, `sample-simulator-cashier-${width}.png`) });
        await p.locator('#order-state', { hasText: 'SUCCESS' }).waitFor();
      } finally {
        await ctx.close();
      }
    },
    90_000,
  );

  it.each([
    ['phone', 390, 844],
    ['desktop', 1280, 900],
  ])(
    'fits a %s screen (%i px): a cart of two sub-merchants paid with one QR code, one sub-order refunded (ecommerce)',
    async (name, width, height) => {
      const ctx = await browser.newContext({ viewport: { width, height } });
      try {
        const p = await ctx.newPage();
        p.on('pageerror', (e) => pageErrors.push(e.message));
        await p.goto(`${sample.url}/`);
        await p.locator('#mode', { hasText: '平台收付通 (ecommerce)' }).waitFor();
        expect(await p.isDisabled('#pay-cart')).toBe(true);

        // A mug from one sub-merchant, a lamp and a tea from another.
        for (const [product, sub] of [
          ['mug', '1900000109'],
          ['lamp', '1900000110'],
          ['tea', '1900000110'],
        ]) {
          await p.selectOption('#product', product);
          await p.selectOption('#sub-mchid', sub);
          await p.click('#add-to-cart');
        }
        expect(await p.locator('#cart-lines tr').count()).toBe(3);
        expect(await p.textContent('#cart-total')).toBe(
          '¥168.01 · 3 line(s) · 2 sub-merchant(s) → 3 sub-order(s)',
        );
        await p
          .locator('#cart-lines tr', { hasText: 'Oolong tea' })
          .getByRole('button', { name: 'Remove' })
          .click();
        expect(await p.locator('#cart-lines tr').count()).toBe(2);
        await expectNoHorizontalOverflow(p, `${name}, cart`);
        mkdirSync(ARTIFACTS, { recursive: true });
        await p.locator('#cart').screenshot({ path: join(ARTIFACTS, `sample-${width}-cart.png`) });

        await p.click('#pay-cart');
        await p.locator('#cart-state', { hasText: 'NOTPAY' }).waitFor();
        await p.waitForFunction(
          "(() => { const img = document.getElementById('cart-qr'); return !!img && img.complete && img.naturalWidth > 0; })()",
        );
        const cartNo = (await p.textContent('#cart-no')) ?? '';
        expect(await p.textContent('#cart-amount')).toBe('¥168.00');
        expect(await p.locator('#cart-sub-rows tr').count()).toBe(2);
        expect(await p.locator('#cart-lines tr').count()).toBe(0);
        expect(await p.getAttribute('#cart-pay-link', 'href')).toBe(
          sample.sim.cashierUrl((await p.textContent('#cart-code-url')) ?? ''),
        );
        await expectNoHorizontalOverflow(p, `${name}, combine QR code`);
        await p.locator('#cart-order').screenshot({ path: join(ARTIFACTS, `sample-${width}-cart-qr.png`) });

        // One QR code, one payment on the simulator's cashier page, every sub-order paid.
        const [payPage] = await Promise.all([ctx.waitForEvent('page'), p.click('#cart-qr')]);
        await payPage.waitForLoadState();
        expect(await payPage.textContent('#sim-out-trade-no')).toBe(cartNo);
        await payPage.click('#sim-pay');
        await payPage.locator('#sim-state', { hasText: 'SUCCESS' }).waitFor();
        await expectNoHorizontalOverflow(payPage, `${name}, simulator cashier of the cart`);
        await payPage.screenshot({ path: join(ARTIFACTS, `sample-simulator-cashier-cart-${width}.png`) });
        await payPage.close();
        await p.locator('#cart-state', { hasText: 'SUCCESS' }).waitFor();
        await p.locator('#cart-paid-banner').waitFor({ state: 'visible' });
        expect(await p.isHidden('#cart-native')).toBe(true);
        expect(await p.locator('#cart-sub-rows tr', { hasText: 'SUCCESS' }).count()).toBe(2);
        expect(sample.sim.getCombineOrder(cartNo)?.tradeState).toBe('SUCCESS');

        // The combine query's trade_state of each sub-order.
        await p.click('#check-cart');
        await p.locator('#cart-sub-rows tr td:nth-child(6)', { hasText: 'SUCCESS' }).nth(1).waitFor();

        // Refund the lamp's sub-order on its own, through the 平台收付通 refund API.
        const lampRow = p.locator('#cart-sub-rows tr', { hasText: 'Desk lamp' });
        const lampNo = (await lampRow.locator('td').first().textContent()) ?? '';
        await lampRow.getByRole('button', { name: /^Refund sub-order/ }).click();
        await p.locator('#order-no', { hasText: lampNo }).waitFor();
        expect(await p.textContent('#order-cart')).toContain(cartNo);
        expect(await p.isDisabled('#close-order')).toBe(true);
        const from = sample.sim.requests.length;
        await p.click('#refund-all');
        await p.locator('#refund-rows tr', { hasText: '¥129.00' }).filter({ hasText: 'SUCCESS' }).waitFor();
        expect(sample.sim.requests.slice(from).map((r) => r.path)).toContain('/v3/ecommerce/refunds/apply');
        await p
          .locator('#cart-sub-rows tr', { hasText: 'Desk lamp' })
          .locator('td:nth-child(7)', { hasText: '¥129.00' })
          .waitFor();
        await p.click('#check-cart');
        await lampRow.locator('td:nth-child(6)', { hasText: 'REFUND' }).waitFor();
        await expectNoHorizontalOverflow(p, `${name}, paid cart with a refunded sub-order`);
        await p.locator('#cart-order').screenshot({ path: join(ARTIFACTS, `sample-${width}-cart-paid.png`) });
        await p.screenshot({ path: join(ARTIFACTS, `sample-${width}-cart-page.png`), fullPage: true });
      } finally {
        await ctx.close();
      }
    },
    90_000,
  );

  it.each([
    ['phone', 390, 844],
    ['desktop', 1280, 900],
  ])(
    'fits a %s screen (%i px): a payment whose notification is lost shows "confirmed by query"; "Reconcile yesterday" shows the report',
    async (name, width, height) => {
      const ctx = await browser.newContext({ viewport: { width, height } });
      try {
        const p = await ctx.newPage();
        p.on('pageerror', (e) => pageErrors.push(e.message));
        await p.goto(`${sample.url}/`);
        await p.locator('#mode', { hasText: 'Simulator mode' }).waitFor();
        await p.selectOption('#product', 'mug');
        await p.selectOption('#sub-mchid', '1900000109');
        await p.click('#buy-native');
        await p.locator('#order-state', { hasText: 'NOTPAY' }).waitFor();
        const no = (await p.textContent('#order-no')) ?? '';
        // The sample's own watch schedule in simulator mode.
        expect(await p.textContent('#watch-note')).toContain('queried at +3 s, +10 s, +30 s, +2 min');
        expect(await p.getAttribute('#pay-link-lost', 'href')).toBe(
          sample.sim.cashierUrl((await p.textContent('#code-url')) ?? '', { loseNotification: true }),
        );

        // "Pay, but lose the notification": the simulator's page opens with its box ticked.
        const [payPage] = await Promise.all([ctx.waitForEvent('page'), p.click('#pay-link-lost')]);
        await payPage.waitForLoadState();
        expect(await payPage.isChecked('#sim-lose-notification')).toBe(true);
        await payPage.click('#sim-pay');
        await payPage.locator('#sim-result', { hasText: 'notification lost' }).waitFor();
        await expectNoHorizontalOverflow(payPage, `${name}, simulator cashier losing the notification`);
        mkdirSync(ARTIFACTS, { recursive: true });
        await payPage.screenshot({ path: join(ARTIFACTS, `sample-simulator-cashier-lost-${width}.png`) });
        await payPage.close();

        // No notification comes; the order watch's query at +3 s finds the payment.
        await p.locator('#order-state', { hasText: 'SUCCESS' }).waitFor({ timeout: 20_000 });
        await p.locator('#confirmed-by', { hasText: 'Confirmed by query.' }).waitFor();
        expect(await p.getAttribute('#confirmed-by', 'class')).toBe('confirmed query');
        expect(await p.textContent('#confirmed-by')).toContain('notification did not arrive');
        expect(await p.isHidden('#watch-note')).toBe(true);
        const lost = sample.sim.deliveries.filter((d) => d.lost);
        expect(lost.length).toBeGreaterThanOrEqual(2); // the planted payment's, and this one's
        await expectNoHorizontalOverflow(p, `${name}, confirmed by query`);
        await p.locator('#order').screenshot({ path: join(ARTIFACTS, `sample-${width}-confirmed-by-query.png`) });
        expect(await p.textContent('#order-no')).toBe(no);

        // An ordinary payment says so too.
        await p.click('#buy-native');
        await p.locator('#order-state', { hasText: 'NOTPAY' }).waitFor();
        await sample.sim.pay((await p.textContent('#order-no')) ?? '');
        await p.locator('#confirmed-by', { hasText: 'Confirmed by notification.' }).waitFor();

        // The reconciliation of yesterday: the demo history's planted payment, and everything else matched.
        await p.click('#reconcile');
        await p.locator('#reconcile-rows tr').first().waitFor();
        expect(await p.locator('#reconcile-rows tr').count()).toBe(1);
        expect(await p.textContent('#reconcile-rows tr')).toContain("Paid at WeChat Pay, not in the shop's books");
        expect(await p.textContent('#reconcile-rows tr')).toContain('¥25.00 SUCCESS');
        const yesterday = beijingDate(new Date(Date.now() - 86_400_000));
        expect(await p.textContent('#reconcile-message')).toBe(
          `1 difference on ${yesterday}; everything else matched.`,
        );
        expect(await p.textContent('#reconcile-summary')).toContain('Differences1');
        await expectNoHorizontalOverflow(p, `${name}, reconciliation report`);
        await p.locator('#reconciliation').screenshot({ path: join(ARTIFACTS, `sample-${width}-reconcile.png`) });
      } finally {
        await ctx.close();
      }
    },
    90_000,
  );

  it('ecommerce refund: PROCESSING until WeChat Pay says more; "Query refunds" settles one whose notification was lost', async () => {
    const outTradeNo = await buyMugByQr();
    await sample.sim.pay(outTradeNo);
    await page.locator('#order-state', { hasText: 'SUCCESS' }).waitFor();
    // Nobody listens there: the REFUND.SUCCESS notification never reaches the shop.
    sample.sim.routeNotificationsTo('http://127.0.0.1:9');
    try {
      const from = sample.sim.requests.length;
      await page.click('#refund-all');
      await page
        .locator('#refund-rows tr', { hasText: '¥39.00' })
        .filter({ hasText: 'PROCESSING' })
        .waitFor();
      expect(sample.sim.requests.slice(from).map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /v3/ecommerce/refunds/apply',
      ]);
      const refund = sample.sim.listRefunds().find((r) => r.outTradeNo === outTradeNo);
      expect(refund).toBeDefined();
      await waitFor(
        () => Promise.resolve(sample.sim.getRefund(refund?.outRefundNo ?? '')?.status),
        (st) => st === 'SUCCESS',
      );
      expect(await page.textContent('#refund-rows')).toContain('PROCESSING');
      await page.click('#refund-check');
      await page.locator('#refund-rows tr', { hasText: '¥39.00' }).filter({ hasText: 'SUCCESS' }).waitFor();
      expect(sample.sim.requests.at(-1)?.path).toBe(
        `/v3/ecommerce/refunds/out-refund-no/${refund?.outRefundNo}?sub_mchid=1900000109`,
      );
      expect(await page.isHidden('#refund-check')).toBe(true);
    } finally {
      sample.sim.routeNotificationsTo(undefined);
    }
  });

  it('closes an unpaid cart whole, after which its QR code cannot be paid', async () => {
    await page.selectOption('#product', 'mug');
    await page.selectOption('#sub-mchid', '1900000109');
    await page.click('#add-to-cart');
    await page.selectOption('#sub-mchid', '1900000110');
    await page.click('#add-to-cart');
    await page.click('#pay-cart');
    await page.locator('#cart-state', { hasText: 'NOTPAY' }).waitFor();
    const cartNo = (await page.textContent('#cart-no')) ?? '';
    await page.click('#close-cart');
    await page.locator('#cart-state', { hasText: 'CLOSED' }).waitFor();
    await page.locator('#cart-closed-note').waitFor({ state: 'visible' });
    expect(await page.locator('#cart-sub-rows tr', { hasText: 'CLOSED' }).count()).toBe(2);
    expect(await page.isDisabled('#close-cart')).toBe(true);
    expect(sample.sim.getCombineOrder(cartNo)?.tradeState).toBe('CLOSED');
    const [payPage] = await Promise.all([context.waitForEvent('page'), page.click('#cart-qr')]);
    await payPage.waitForLoadState();
    expect(await payPage.textContent('#sim-state')).toBe('CLOSED');
    expect(await payPage.isDisabled('#sim-pay')).toBe(true);
  });

  it('clears the card of the previous order when a new order fails', async () => {
    await buyMugByQr();
    await page.click('#close-order');
    await page.locator('#order-state', { hasText: 'CLOSED' }).waitFor();
    // 1900000199 has not authorized the provider: WeChat Pay answers 403 NO_AUTH.
    await page.selectOption('#sub-mchid', '1900000199');
    await page.click('#buy-native');
    await page.locator('#buy-error', { hasText: 'NO_AUTH' }).waitFor();
    expect(await page.isHidden('#order')).toBe(true);
    // The browser logs the expected 502 as a failed resource: not a page error.
    pageErrors = pageErrors.filter((e) => !e.includes('/api/orders'));
  });

  it('buys by Native QR, pays on the simulator page opened from the QR link, and shows "paid"', async () => {
    const outTradeNo = await buyMugByQr();
    expect(await page.textContent('#order-total')).toBe('¥39.00');
    expect(await page.isHidden('#paid-banner')).toBe(true);
    expect(await page.getAttribute('#pay-link', 'href')).toMatch(
      new RegExp(`^${sample.sim.baseUrl}/__sim/cashier\\?pr=`),
    );

    const [payPage] = await Promise.all([context.waitForEvent('page'), page.click('#qr')]);
    await payPage.waitForLoadState();
    expect(await payPage.textContent('#sim-out-trade-no')).toBe(outTradeNo);
    await payPage.click('#sim-pay');
    await payPage.locator('#sim-result', { hasText: 'paid' }).waitFor();

    // The cashier learns it from the server (notification → SQLite → SSE), not from the pay page.
    await page.locator('#order-state', { hasText: 'SUCCESS' }).waitFor();
    await page.locator('#paid-banner', { hasText: 'paid' }).waitFor({ state: 'visible' });
    expect(await page.isDisabled('#close-order')).toBe(true);
    await page.locator('#recent-rows tr', { hasText: outTradeNo }).filter({ hasText: 'SUCCESS' }).waitFor();

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'sample-paid.png'), fullPage: true });
    await payPage.screenshot({ path: join(ARTIFACTS, 'sample-simulator-cashier.png') });
  });

  it('closes an unpaid order, after which the payment page cannot pay it', async () => {
    const outTradeNo = await buyMugByQr();
    await page.click('#close-order');
    await page.locator('#order-state', { hasText: 'CLOSED' }).waitFor();
    expect(await page.isHidden('#paid-banner')).toBe(true);
    expect(await page.isDisabled('#close-order')).toBe(true);
    expect(sample.sim.getOrder('1900000109', outTradeNo)?.tradeState).toBe('CLOSED');

    const [payPage] = await Promise.all([context.waitForEvent('page'), page.click('#qr')]);
    await payPage.waitForLoadState();
    expect(await payPage.textContent('#sim-state')).toBe('CLOSED');
    expect(await payPage.isDisabled('#sim-pay')).toBe(true);
  });

  it('H5: sends the payer to h5_url + redirect_url; the return page checks the order only on request', async () => {
    await page.selectOption('#product', 'tea');
    await page.click('#buy-h5');
    await page.locator('#order-state', { hasText: 'NOTPAY' }).waitFor();
    const outTradeNo = (await page.textContent('#order-no')) ?? '';
    const redirect = `${sample.url}/h5-return?out_trade_no=${outTradeNo}`;
    expect(await page.textContent('#h5-redirect')).toBe(redirect);
    expect(await page.getAttribute('#h5-link', 'href')).toContain(
      `&redirect_url=${encodeURIComponent(redirect)}`,
    );
    expect(await page.textContent('#h5-expiry')).toMatch(/^valid for [45]:\d\d$/);

    const [payPage] = await Promise.all([context.waitForEvent('page'), page.click('#h5-link')]);
    const checks: string[] = [];
    payPage.on('request', (r) => {
      if (r.url().endsWith('/check')) checks.push(r.url());
    });
    await payPage.waitForLoadState();
    await payPage.click('#sim-pay');
    await payPage.click('#sim-return');
    await payPage.waitForURL(redirect);
    expect(await payPage.textContent('#return-order-no')).toBe(outTradeNo);
    // Nothing is queried until the payer asks: WeChat may bring them back before the payment ended.
    await payPage.waitForTimeout(300);
    expect(checks).toEqual([]);
    await payPage.click('#check-payment');
    await payPage.locator('#order-state', { hasText: 'SUCCESS' }).waitFor();
    expect(checks).toHaveLength(1);
    await page.locator('#paid-banner').waitFor({ state: 'visible' });
  });

  it('JSAPI and App: shows the signed pay params', async () => {
    await page.click('#buy-jsapi');
    await page.locator('#pay-params', { hasText: '"signType": "RSA"' }).waitFor();
    expect(await page.textContent('#pay-params')).toContain('"package": "prepay_id=');
    await page.click('#buy-app');
    await page.locator('#pay-params', { hasText: '"package": "Sign=WXPay"' }).waitFor();
    expect(await page.isVisible('#prepay-pay-link')).toBe(true);
  });

  it("shows yesterday's trade bill and offers it as CSV", async () => {
    const res = await fetch(`${sample.url}/api/orders`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ productId: 'lamp', subMchid: '1900000110', scene: 'native' }),
    });
    const { order } = (await res.json()) as { order: { out_trade_no: string } };
    const yesterday = beijingDate(new Date(Date.now() - 86_400_000));
    await sample.sim.pay(order.out_trade_no, { at: Date.parse(`${yesterday}T09:30:00+08:00`) });

    expect(await page.inputValue('#bill-date')).toBe(yesterday);
    expect(await page.isHidden('#bill-download')).toBe(true);
    await page.click('#load-bill');
    await page
      .locator('#bill-rows tr', { hasText: order.out_trade_no })
      .filter({ hasText: '129.00' })
      .waitFor();
    expect(await page.textContent('#bill-message')).toMatch(
      new RegExp(`^Bill of ${yesterday}: \\d+ trade\\(s\\)\\.$`),
    );
    expect(await page.getAttribute('#bill-download', 'href')).toBe(`/api/bills/trade.csv?date=${yesterday}`);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#bill-download')]);
    expect(download.suggestedFilename()).toBe(`tradebill-${yesterday}.csv`);

    const empty = beijingDate(new Date(Date.now() - 2 * 86_400_000));
    await page.fill('#bill-date', empty);
    await page.click('#load-bill');
    await page.locator('#bill-message', { hasText: `No trades on ${empty}` }).waitFor();
    // WeChat Pay's normal answer for a day without trades: information, not an error.
    expect(await page.getAttribute('#bill-message', 'class')).toBe('info');
    expect(await page.isHidden('#bill-download')).toBe(true);
    // The browser logs that expected 404 (NO_STATEMENT_EXIST) as a failed resource: not a page error.
    pageErrors = pageErrors.filter((e) => !e.includes(`/api/bills/trade?date=${empty}`));
  });
});
