// /metrics and /dashboard/ against the governors they describe, and the Basic challenge flow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, startHarness, testKey } from '../test-support/harness.js';

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
