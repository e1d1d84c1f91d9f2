// Admin key creation and body parsing edge cases over real HTTP against the simulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, chatBody, type Harness, startHarness, testKey } from './test-support/harness.js';

let h: Harness;
const admin = testKey('admin');
beforeAll(async () => {
  h = await startHarness({ keys: [{ name: 'u', permissions: ['read', 'write'] }] });
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe('gateway: admin keys and bodies', () => {
  it('a key created through /admin/keys with its own limits enforces them', async () => {
    const created = await call(h.gateway, '/admin/keys', {
      key: admin,
      body: { name: 'limited', limits: { maxRequestsPerMinute: 2 } },
    });
    expect(created.status).toBe(201);
    const record = (await created.json()) as { key: string };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await call(h.gateway, '/v1/chat/completions', { key: record.key, body: chatBody() });
      await r.text();
      statuses.push(r.status);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
  }, 60_000);

  it("the admin answers show a key's own limits instead of an empty object", async () => {
    const created = await call(h.gateway, '/admin/keys', {
      key: admin,
      body: { name: 'shown', limits: { maxRequestsPerMinute: 7 } },
    });
    const record = (await created.json()) as { id: string; limits: unknown };
    expect(record.limits).toEqual({ maxRequestsPerMinute: 7 });
    const read = (await (await call(h.gateway, `/admin/keys/${record.id}`, { key: admin })).json()) as {
      limits: unknown;
    };
    expect(read.limits).toEqual({ maxRequestsPerMinute: 7 });
  }, 30_000);

  it('a key name with a NUL character is a 400 naming the field, not a 500', async () => {
    const r = await call(h.gateway, '/admin/keys', { key: admin, body: { name: 'nul\u0000byte' } });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { param: string } }).error.param).toBe('name');
  }, 30_000);

  it('limits given in snake_case are stored and answered in camelCase', async () => {
    const created = await call(h.gateway, '/admin/keys', {
      key: admin,
      body: { name: 'snake', limits: { max_requests_per_minute: 9, algorithm: 'sliding-window' } },
    });
    expect(created.status).toBe(201);
    const record = (await created.json()) as { id: string; limits: unknown };
    expect(record.limits).toEqual({ maxRequestsPerMinute: 9, algorithm: 'sliding-window' });
    const list = (await (await call(h.gateway, '/admin/keys', { key: admin })).json()) as {
      data: { id: string; limits: unknown }[];
    };
    expect(list.data.find((k) => k.id === record.id)?.limits).toEqual(record.limits);
  }, 30_000);

  it.each([
    [
      'a non-finite value',
      '{"name":"inf","limits":{"maxRequestsPerMinute":1e400}}',
      'limits.maxRequestsPerMinute',
    ],
    [
      'a value past the maximum',
      '{"name":"huge","limits":{"maxTokensPerMinute":1e300}}',
      'limits.maxTokensPerMinute',
    ],
    [
      'a timeout past 366 days',
      '{"name":"long","limits":{"taskTimeoutSeconds":40000000}}',
      'limits.taskTimeoutSeconds',
    ],
    [
      'an unknown field',
      '{"name":"unknown","limits":{"maxRequestsPerSecond":1}}',
      'limits.maxRequestsPerSecond',
    ],
  ])(
    'a limit with %s is a 400 naming the field',
    async (_what, body, param) => {
      const r = await call(h.gateway, '/admin/keys', { key: admin, body });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { param: string } }).error.param).toBe(param);
    },
    30_000,
  );

  it('a key name with an unpaired surrogate is a 400 naming the field', async () => {
    const r = await call(h.gateway, '/admin/keys', { key: admin, body: '{"name":"half\\ud800pair"}' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { param: string } }).error.param).toBe('name');
  }, 30_000);

  it('a deeply nested JSON body is a 400, not a 500', async () => {
    const nested = `${'['.repeat(20_000)}"x"${']'.repeat(20_000)}`;
    const r = await call(h.gateway, '/v1/chat/completions', {
      key: testKey('u'),
      body: `{"model":"sim-small","messages":[{"role":"user","content":"hi"}],"extra":${nested}}`,
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  }, 30_000);
});
