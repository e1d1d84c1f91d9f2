// The conversation query, statistics and admin routes with hostile parameters, and the 409 of a taken id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, startHarness, testKey } from '../test-support/harness.js';

let h: Harness;
const alice = testKey('alice');
const bob = testKey('bob');
const admin = testKey('admin');
beforeAll(async () => {
  h = await startHarness({
    keys: [
      { name: 'alice', permissions: ['read', 'write'] },
      { name: 'bob', permissions: ['read', 'write'] },
    ],
    config: { conversations: { maxTokens: 16 } },
  });
}, 60_000);
afterAll(() => h?.close());

describe('conversation queries, hostile', () => {
  it('hostile query strings get a 2xx or a 4xx, never a 5xx', async () => {
    const paths: Array<[string, string, string?]> = [
      [alice, '/conversations/recent?limit=-1'],
      [alice, '/conversations/recent?limit=1e9'],
      [alice, '/conversations/recent?limit=abc'],
      [alice, '/conversations/recent?limit=0'],
      [alice, '/conversations/recent?limit=1&limit=2'],
      [alice, `/conversations/${'a'.repeat(129)}`],
      [alice, '/conversations/..%2F..%2Fadmin%2Fexport'],
      [alice, "/conversations/x'%20OR%20'1'='1"],
      [admin, '/admin/export?days=-1'],
      [admin, '/admin/export?days=99999.999'],
      [admin, '/admin/export?days=NaN'],
      [admin, '/admin/export?days=1&days=2'],
      [admin, '/admin/export?format=csv'],
    ];
    for (const [key, path] of paths) {
      const r = await call(h.gateway, path, { key });
      await r.text();
      expect([path, r.status < 500]).toEqual([path, true]);
    }
    for (const query of [
      "'; DROP TABLE conversations; --",
      '\\',
      ':*',
      '!!!&&&|||',
      '"unterminated',
      '-',
      'or or or',
    ]) {
      const r = await call(h.gateway, '/conversations/search', { key: alice, body: { query } });
      await r.text();
      expect([query, r.status]).toEqual([query, 200]);
    }
    const cleanup = await call(h.gateway, '/admin/cleanup?days=-1', { key: admin, method: 'POST' });
    await cleanup.text();
    expect(cleanup.status).toBeLessThan(500);
  }, 60_000);

  it("a taken conversation id is refused the same whoever holds it: POST /stream/{id} reveals no other key's conversation", async () => {
    const id = 'private-id';
    const body = { message: 'secret plan', num_agents: 1, turns: 1 };
    const own = await call(h.gateway, `/stream/${id}`, { key: bob, body });
    await own.text();
    expect(own.status).toBe(200);
    const read = await call(h.gateway, `/conversations/${id}`, { key: alice });
    expect(read.status).toBe(404);
    const theirs = await call(h.gateway, `/stream/${id}`, { key: alice, body: { ...body, message: 'q' } });
    const again = await call(h.gateway, `/stream/${id}`, { key: bob, body });
    const [theirsText, againText] = [await theirs.text(), await again.text()];
    expect(theirs.status).toBe(409);
    // The owner's refusal and another key's say the same: nothing tells them apart.
    expect([theirs.status, theirsText]).toEqual([again.status, againText]);
    expect(theirsText).not.toContain('already exists');
  }, 30_000);
});
