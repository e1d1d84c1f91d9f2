// WS /ws/{id}: oversized client frames, refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { call, type Harness, startHarness, testKey } from '../test-support/harness.js';
import { watch } from '../test-support/wsClient.js';

let h: Harness;
const alice = testKey('alice');
beforeAll(async () => {
  h = await startHarness({
    simulator: { latency: { ttftMs: 30, perTokenMs: 0, jitter: 0 } },
    keys: [
      { name: 'alice', permissions: ['read', 'write'] },
      { name: 'writer', permissions: ['write'] },
    ],
    config: { conversations: { maxTokens: 16, replayMs: 1 } },
  });
}, 60_000);
afterAll(() => h?.close());

const body = { message: 'What is 6 x 7?', num_agents: 2, turns: 2 };
describe('WS /ws/{id}, hostile', () => {
  it('a client frame over the limit closes only that socket; the conversation completes', async () => {
    const id = 'ws-big-frame';
    expect((await call(h.gateway, `/stream/${id}`, { key: alice, body })).status).toBe(200);
    const socket = new WebSocket(`${h.gateway.url.replace(/^http/, 'ws')}/ws/${id}`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    await new Promise((r, j) => {
      socket.once('open', r);
      socket.once('error', j);
    });
    const code = new Promise<number>((r) => socket.once('close', (c) => r(c)));
    socket.send('x'.repeat(100_000));
    expect(await code).toBe(1009);
    for (let i = 0; i < 100; i++) {
      const d = await h.gateway.services.conversations.store.detail(id);
      if (d?.metadata.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await h.gateway.services.conversations.store.detail(id))?.metadata.status).toBe('completed');
  }, 30_000);

  it('refuses a key without read (401/403) and an unknown id without revealing it exists (404 only with a valid key)', async () => {
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 101,
        (e: { status?: number }) => e.status,
      );
    expect(await status(watch(h.gateway.url, 'nope', testKey('writer')))).toBe(403);
    expect(await status(watch(h.gateway.url, 'nope', 'tg-invalid-key-xxxxxxxxxx'))).toBe(401);
    expect(await status(watch(h.gateway.url, 'nope', alice))).toBe(404);
  }, 30_000);
});
