// /metrics and /dashboard/ against the governors they describe, and the Basic challenge flow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, startHarness, testKey } from '../test-support/harness.js';

/** The value of `name{governor="…"}` in a Prometheus text exposition (summed over other labels). */
function metric(text: string, name: string, governor: string): number {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) && line.includes(`governor="${governor}"`))
      sum += Number(line.split(' ').at(-1));
  return sum;
}

const admin = testKey('admin');
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    keys: [{ name: 'alice', permissions: ['read', 'write'] }],
    config: {
      conversations: { maxTokens: 16 },
      ipBlock: { maxFailures: 3, windowMs: 60_000, blockMs: 60_000 },
    },
  });
}, 60_000);
afterAll(() => h?.close());

describe('metrics and dashboard', () => {
  it("a key's conversation calls show in its metrics (tollgate_admissions_total of key:NAME:conversations)", async () => {
    const r = await call(h.gateway, '/chat', {
      key: testKey('alice'),
      body: {
        message: 'What is 6 x 7?',
        num_agents: 2,
        turns: 1,
        agents: [{ model: 'sim-small', temperature: 0.5, personality: 'plain' }],
      },
    });
    expect(r.status).toBe(200);
    const text = await (await call(h.gateway, '/metrics', { key: admin })).text();
    // Two agent calls passed the provider's governor and alice's quota, through her wait-mode governor.
    expect(metric(text, 'tollgate_admissions_total', 'provider')).toBeGreaterThanOrEqual(2);
    expect(metric(text, 'tollgate_admissions_total', 'key:alice:conversations')).toBeGreaterThanOrEqual(2);
    const state = await call(h.gateway, '/dashboard/state.json', { key: admin });
    expect(state.status).toBe(200);
    expect(await state.text()).toContain('"name":"key:alice:conversations"');
  }, 30_000);

  it('opening the dashboard as a browser does (first without credentials, then Basic) never locks the admin out', async () => {
    // Each visit: the page without credentials (answered 401 + WWW-Authenticate), then with them.
    const basic = `Basic ${Buffer.from(`me:${admin}`).toString('base64')}`;
    for (let visit = 0; visit < 4; visit++) {
      const challenge = await call(h.gateway, '/dashboard/');
      await challenge.text();
      expect(challenge.headers.get('www-authenticate')).toMatch(/^Basic/);
      const page = await call(h.gateway, '/dashboard/', { headers: { authorization: basic } });
      await page.text();
      expect([visit, page.status]).toEqual([visit, 200]);
    }
  }, 30_000);
});
