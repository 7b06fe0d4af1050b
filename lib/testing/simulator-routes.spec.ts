import { defineEndpoint } from '../core/http/endpoint';
import type { AuthorizationParams } from '../core/crypto/request-signer';
import { json, type SimulatorRoute, SimulatorRouteTable, toolingJson, ToolingRouteTable } from './simulator-routes';

function route(name: string, method: 'GET' | 'POST', path: string): SimulatorRoute {
  return { endpoint: defineEndpoint({ name, method, path, idempotent: true, response: 'json' }), handle: () => json(200, { name }) };
}

const AUTH: AuthorizationParams = { mchid: '1', nonce_str: 'n', signature: 's', timestamp: '1', serial_no: 'S' };

describe('SimulatorRouteTable', () => {
  const table = new SimulatorRouteTable([
    route('t.byNo', 'GET', '/v3/t/out-no/{out_no}'),
    route('t.close', 'POST', '/v3/t/out-no/{out_no}/close'),
    route('t.pair', 'GET', '/v3/t/{a}/{b}'),
    route('t.byId', 'GET', '/v3/t/id/{id}'),
  ]);

  it('finds a route by method, then template, with the path parameters decoded', () => {
    const found = table.find('GET', '/v3/t/out-no/T%20%E4%B8%AD%25');
    expect(found?.route.endpoint.name).toBe('t.byNo');
    expect(found?.params).toEqual({ out_no: 'T 中%' });
    expect(found?.route.handle({ auth: AUTH, params: found.params, query: new URLSearchParams(), body: {}, headers: {} }).body).toBe('{"name":"t.byNo"}');
    expect(table.find('POST', '/v3/t/out-no/T1/close')?.params).toEqual({ out_no: 'T1' });
  });

  it('answers nothing for another method, an unknown path or an empty segment', () => {
    expect(table.find('POST', '/v3/t/out-no/T1')).toBeUndefined();
    expect(table.find('GET', '/v3/t/out-no/T1/close')).toBeUndefined();
    expect(table.find('GET', '/v3/t/out-no/')).toBeUndefined();
    expect(table.find('GET', '/v3/other')).toBeUndefined();
  });

  it('prefers literal segments over placeholders, whatever the order of registration', () => {
    expect(table.find('GET', '/v3/t/id/42')).toMatchObject({ route: { endpoint: { name: 't.byId' } }, params: { id: '42' } });
    expect(table.find('GET', '/v3/t/x/42')).toMatchObject({ route: { endpoint: { name: 't.pair' } }, params: { a: 'x', b: '42' } });
  });

  it('refuses two routes for one endpoint, or for one method and template', () => {
    expect(() => new SimulatorRouteTable([route('a', 'GET', '/v3/a'), route('a', 'GET', '/v3/b')])).toThrow(/endpoint a has two routes/);
    expect(() => new SimulatorRouteTable([route('a', 'GET', '/v3/a/{x}'), route('b', 'GET', '/v3/a/{x}')])).toThrow(/GET \/v3\/a\/\{x\} has two routes/);
    expect(() => new SimulatorRouteTable([route('a', 'GET', '/v3/a'), route('b', 'POST', '/v3/a')])).not.toThrow();
  });

  it('lists the endpoints it serves', () => {
    expect(table.endpoints().map((e) => e.name).sort()).toEqual(['t.byId', 't.byNo', 't.close', 't.pair']);
  });
});

describe('ToolingRouteTable', () => {
  it('finds by method and exact path, and refuses duplicates', () => {
    const health = { method: 'GET' as const, path: '/__sim/health' as const, handle: () => toolingJson(200, { ok: true }) };
    const table = new ToolingRouteTable([health]);
    expect(table.find('GET', '/__sim/health')).toBe(health);
    expect(table.find('POST', '/__sim/health')).toBeUndefined();
    expect(table.find('GET', '/__sim/health/')).toBeUndefined();
    expect(() => new ToolingRouteTable([health, health])).toThrow(/GET \/__sim\/health has two routes/);
  });
});
