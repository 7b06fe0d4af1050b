import {
  acceptsFamily,
  joinPaths,
  type NotificationRouteInfo,
  notifyRouteWarnings,
  routeServesPath,
} from './notify-route-check';

const route = (paths: string[], eventTypes: string[] = [], method = 'POST'): NotificationRouteInfo => ({
  handler: 'PayController.notify',
  method,
  paths,
  eventTypes,
});

describe('joinPaths', () => {
  it('joins like Nest', () => {
    expect(joinPaths('api', '/wechatpay/', '', 'notify/')).toBe('/api/wechatpay/notify');
    expect(joinPaths('/', '')).toBe('/');
  });
});

describe('routeServesPath', () => {
  it.each([
    ['/api/notify', '/api/notify', true],
    ['/api/notify', '/api/notify/', true],
    ['/api/notify', '/API/Notify', true],
    ['/api/notify', '/notify', false],
    ['/notify/:sub', '/notify/1900000109', true],
    ['/notify/:sub', '/notify', false],
    ['/notify/*splat', '/notify/a/b', true],
    ['/notify{/:sub}', '/notify', undefined],
    ['/notify-:id', '/notify-1', undefined],
    ['/wechat%20pay', '/wechat%20pay', false],
    ['/wechat pay', '/wechat%20pay', true],
  ])('%s serves %s: %s', (pattern, path, expected) => {
    expect(routeServesPath(pattern, path)).toBe(expected);
  });
});

describe('acceptsFamily', () => {
  it('lets through a family by exact type or PREFIX.*', () => {
    expect(acceptsFamily([], 'REFUND.')).toBe(true);
    expect(acceptsFamily(['REFUND.*'], 'REFUND.')).toBe(true);
    expect(acceptsFamily(['REFUND.SUCCESS'], 'REFUND.')).toBe(true);
    expect(acceptsFamily(['TRANSACTION.SUCCESS'], 'REFUND.')).toBe(false);
  });
});

describe('notifyRouteWarnings', () => {
  const notifyUrl = {
    option: 'notifyUrl',
    url: 'https://shop.example.com/wechatpay/notify',
    eventPrefix: 'TRANSACTION.',
  };

  it('is silent when a route serves the path and takes the events', () => {
    expect(
      notifyRouteWarnings([notifyUrl], [route(['/wechatpay/notify'], ['TRANSACTION.SUCCESS'])], {
        globalPrefix: '',
      }),
    ).toEqual([]);
  });

  it('names the URL and the routes when none serves the path, with the global prefix as the likely cause', () => {
    const [warning, ...rest] = notifyRouteWarnings([notifyUrl], [route(['/api/wechatpay/notify'])], {
      globalPrefix: 'api',
    });
    expect(rest).toEqual([]);
    expect(warning).toMatch(
      /^notifyUrl has the path \/wechatpay\/notify, which no @WechatPayNotification\(\) POST route serves/,
    );
    expect(warning).toContain('POST /api/wechatpay/notify (PayController.notify)');
    expect(warning).toContain(
      "The global prefix 'api' applies to these routes (the notify URL path would be /api/wechatpay/notify)",
    );
  });

  it('names a URI version segment as the likely cause', () => {
    const r = { ...route(['/v1/wechatpay/notify']), versionSegments: ['v1'] };
    expect(notifyRouteWarnings([notifyUrl], [r], { globalPrefix: '' })[0]).toContain(
      "URI versioning adds '/v1'",
    );
  });

  it('warns once for options pointing at the same missing path', () => {
    const refund = {
      option: 'refundNotifyUrl (default: notifyUrl)',
      url: notifyUrl.url,
      eventPrefix: 'REFUND.',
    };
    const warnings = notifyRouteWarnings([notifyUrl, refund], [route(['/other'])], { globalPrefix: '' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^notifyUrl and refundNotifyUrl \(default: notifyUrl\) have the path/);
  });

  it('ignores routes that are not POST', () => {
    expect(
      notifyRouteWarnings([notifyUrl], [route(['/wechatpay/notify'], [], 'GET')], { globalPrefix: '' }),
    ).toHaveLength(1);
    expect(
      notifyRouteWarnings([notifyUrl], [route(['/wechatpay/notify'], [], 'ALL')], { globalPrefix: '' }),
    ).toEqual([]);
  });

  it('warns when the route at the refund notify URL refuses refund events', () => {
    const refund = {
      option: 'refundNotifyUrl (default: notifyUrl)',
      url: notifyUrl.url,
      eventPrefix: 'REFUND.',
    };
    const warnings = notifyRouteWarnings(
      [notifyUrl, refund],
      [route(['/wechatpay/notify'], ['TRANSACTION.SUCCESS'])],
      { globalPrefix: '' },
    );
    expect(warnings).toEqual([
      expect.stringMatching(
        /^refundNotifyUrl \(default: notifyUrl\) https:\/\/shop.example.com\/wechatpay\/notify is served by POST \/wechatpay\/notify \(PayController.notify\), which accepts only TRANSACTION.SUCCESS: REFUND.\* notifications sent there are refused with 400/,
      ),
    ]);
  });

  it('does not judge patterns it cannot match', () => {
    expect(notifyRouteWarnings([notifyUrl], [route(['/wechatpay{/:x}'])], { globalPrefix: '' })).toEqual([]);
  });
});
