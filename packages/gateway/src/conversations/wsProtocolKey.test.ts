// WS /ws/{id} with the key in Sec-WebSocket-Protocol, as a browser sends it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { call, type Harness, startHarness, testKey } from '../test-support/harness.js';

let h: Harness;
const alice = testKey('alice');
beforeAll(async () => {
  h = await startHarness({
    simulator: { latency: { ttftMs: 30, perTokenMs: 0, jitter: 0 } },
    keys: [{ name: 'alice', permissions: ['read', 'write'] }],
    config: { conversations: { maxTokens: 16 } },
  });
}, 60_000);
afterAll(() => h?.close());

/** Opens `/ws/{id}` offering `protocols` and no headers; the HTTP status when refused. */
function open(
  id: string,
  protocols: string[],
): Promise<{ socket: WebSocket; types: string[] } | { status: number }> {
  const socket = new WebSocket(`${h.gateway.url.replace(/^http/, 'ws')}/ws/${id}`, protocols);
  const types: string[] = [];
  socket.on('message', (data) => types.push((JSON.parse(String(data)) as { type: string }).type));
  socket.on('error', () => {}); // a refused upgrade is read from its response
  return new Promise((resolve) => {
    socket.once('open', () => resolve({ socket, types }));
    socket.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      socket.terminate();
    });
  });
}

describe('WS /ws/{id}: the key as a subprotocol', () => {
  it("accepts ['tollgate', 'bearer.KEY'], selects 'tollgate' (the key is not echoed) and streams the conversation", async () => {
    const id = 'ws-protocol-key';
    const started = await call(h.gateway, `/stream/${id}`, {
      key: alice,
      body: { message: 'What is 6 x 7?', num_agents: 1, turns: 1 },
    });
    expect(started.status).toBe(200);
    const opened = await open(id, ['tollgate', `bearer.${alice}`]);
    if (!('socket' in opened)) throw new Error(`upgrade refused: ${opened.status}`);
    expect(opened.socket.protocol).toBe('tollgate');
    const { types } = opened;
    const code = await new Promise<number>((r) => opened.socket.once('close', (c) => r(c)));
    expect(code).toBe(1000);
    expect(types[0]).toBe('started');
    expect(types.at(-1)).toBe('completed');
  }, 30_000);

  it('refuses a wrong key (401) and no key at all (401) offered the same way', async () => {
    expect(await open('ws-protocol-key', ['tollgate', 'bearer.tg-invalid-key-xxxxxxxxxx'])).toEqual({
      status: 401,
    });
    expect(await open('ws-protocol-key', ['tollgate'])).toEqual({ status: 401 });
  }, 30_000);
});
