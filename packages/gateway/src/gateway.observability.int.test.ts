import { ManualClock } from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, chatBody, type Harness, startHarness, testKey } from './test-support/harness.js';

/** `name{labels} value` lines of a Prometheus text exposition, as [name, labels, value]. */
function samples(text: string): Array<[string, Record<string, string>, number]> {
  const out: Array<[string, Record<string, string>, number]> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    out.push([m[1]!, labels, Number(m[3])]);
  }
  return out;
}

const seriesValues = (text: string, name: string, labels: Record<string, string>) =>
  samples(text)
    .filter(([n, l]) => n === name && Object.entries(labels).every(([k, v]) => l[k] === v))
    .map(([, , v]) => v);

const basic = (key: string) => `Basic ${Buffer.from(`admin:${key}`).toString('base64')}`;

describe('gateway /metrics and /dashboard over its governors', () => {
  let h: Harness;
  const clock = new ManualClock(Date.now());
  const admin = testKey('admin');
  const governor = (name: string): Governor =>
    h.gateway.services.governance.governors().find((g) => g.name === name)!;
  beforeAll(async () => {
    h = await startHarness({
      config: {
        docs: true,
        upstream: { limits: { maxRequestsPerMinute: 100, maxTokensPerMinute: 100_000 } },
      },
      keys: [
        { name: 'alpha', permissions: ['read', 'write'], limits: { maxRequestsPerMinute: 10 } },
        { name: 'beta', permissions: ['read', 'write'], limits: { maxRequestsPerMinute: 2 } },
      ],
      deps: { clock },
    });
    for (let i = 0; i < 3; i++)
      expect(
        (await call(h.gateway, '/v1/chat/completions', { key: testKey('alpha'), body: chatBody() })).status,
      ).toBe(200);
    const beta = [];
    for (let i = 0; i < 3; i++)
      beta.push(
        (await call(h.gateway, '/v1/chat/completions', { key: testKey('beta'), body: chatBody() })).status,
      );
    expect(beta).toEqual([200, 200, 429]);
  }, 120_000);
  afterAll(() => h?.close());

  it("serves every governor's numbers as the governors have them, to an admin only", async () => {
    expect((await call(h.gateway, '/metrics')).status).toBe(401);
    expect((await call(h.gateway, '/metrics', { key: testKey('alpha') })).status).toBe(403);
    const res = await call(h.gateway, '/metrics', { key: admin });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const admissions = (g: string) => seriesValues(text, 'tollgate_admissions_total', { governor: g });
    expect(admissions('key:alpha')).toEqual([3]);
    expect(admissions('key:beta')).toEqual([2]);
    expect(admissions('provider')).toEqual([5]);
    expect(
      seriesValues(text, 'tollgate_rejections_total', { governor: 'key:beta', reason: 'requestsPerMinute' }),
    ).toEqual([1]);
    expect(seriesValues(text, 'tollgate_rejections_total', { governor: 'key:alpha' })).toEqual([]);
    for (const name of ['provider', 'key:alpha', 'key:beta']) {
      const status = governor(name).checkResourceAvailability();
      expect(Object.keys(status.limits).length).toBeGreaterThan(0);
      for (const [limit, view] of Object.entries(status.limits)) {
        const labels = { governor: name, limit: limit };
        expect(seriesValues(text, 'tollgate_limit_max', labels)).toEqual([view.limit]);
        expect(seriesValues(text, 'tollgate_limit_remaining', labels)).toEqual([status.remaining[limit]]);
      }
      expect(seriesValues(text, 'tollgate_queue_depth', { governor: name })).toEqual([status.queued]);
    }
    expect(
      seriesValues(text, 'tollgate_limit_remaining', {
        governor: 'key:beta',
        limit: 'requestsPerMinute',
      }),
    ).toEqual([0]);
    for (const k of ['alpha', 'beta', 'admin']) expect(text).not.toContain(testKey(k));
  });

  it('serves the live dashboard to an admin (bearer, or Basic for browsers) and refuses everyone else', async () => {
    const refused = await call(h.gateway, '/dashboard/');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(
      (
        await call(h.gateway, '/dashboard/', {
          headers: { authorization: basic('wrong-key-of-some-length') },
        })
      ).status,
    ).toBe(401);
    expect((await call(h.gateway, '/dashboard/state.json', { key: testKey('alpha') })).status).toBe(403);
    const redirect = await fetch(`${h.gateway.url}/dashboard`, {
      headers: { authorization: `Bearer ${admin}` },
      redirect: 'manual',
    });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/dashboard/');
    const page = await call(h.gateway, '/dashboard/', { headers: { authorization: basic(admin) } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="app.js">');
    expect((await call(h.gateway, '/dashboard/app.js', { key: admin })).headers.get('content-type')).toMatch(
      /javascript/,
    );
    const state = (await (await call(h.gateway, '/dashboard/state.json', { key: admin })).json()) as {
      governors: Array<{
        name: string;
        admissions: number;
        limits: Array<{ name: string; remaining: number; limit: number }>;
      }>;
    };
    const shown = new Map(state.governors.map((g) => [g.name, g]));
    expect([...shown.keys()].sort()).toEqual(['key:alpha', 'key:beta', 'provider']);
    expect(shown.get('key:alpha')?.admissions).toBe(3);
    const beta = governor('key:beta').checkResourceAvailability();
    expect(shown.get('key:beta')?.limits.find((l) => l.name === 'requestsPerMinute')).toMatchObject({
      limit: 2,
      remaining: beta.remaining.requestsPerMinute,
    });
  });

  it('streams the dashboard events to an admin over Server-Sent Events', async () => {
    const controller = new AbortController();
    const res = await fetch(`${h.gateway.url}/dashboard/events`, {
      headers: { authorization: basic(admin) },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: hello\ndata: '))
      text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('"name":"key:alpha"');
    controller.abort();
    expect((await call(h.gateway, '/dashboard/events')).status).toBe(401);
  });

  it('publishes both in the OpenAPI document', async () => {
    const doc = (await (await call(h.gateway, '/docs/json')).json()) as {
      paths: Record<string, { get?: { security?: unknown[] } }>;
    };
    expect(doc.paths['/metrics']?.get?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/dashboard/{*}']?.get?.security).toEqual([{ bearer: [] }, { basic: [] }]);
  });
});
