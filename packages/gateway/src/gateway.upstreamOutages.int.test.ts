// Upstream hangs, mid-stream stalls and client aborts get bounded answers and free their leases.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, chatBody, type Harness, startHarness, testKey } from './test-support/harness.js';

let h: Harness;
let upstream: Server;
let mode: 'hang' | 'stall-stream' | 'slow-stream' | 'ok' = 'hang';
/** Upstream replies whose connection closed before they ended. */
let upstreamCutOff = 0;
const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'sim-small', choices: [{ index: 0, delta: { content } }] })}\n\n`;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    res.on('close', () => {
      if (!res.writableFinished) upstreamCutOff++;
    });
    if (mode === 'hang') return;
    if (mode === 'slow-stream') {
      // Six chunks 500 ms apart: 3 s in all, twice the time limit, never silent for as long.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let sent = 0;
      const timer = setInterval(() => {
        if (++sent <= 6) return void res.write(chunk(`w${sent} `));
        clearInterval(timer);
        res.end('data: [DONE]\n\n');
      }, 500);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (mode === 'stall-stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'sim-small', choices: [{ index: 0, delta: { content: 'hi' } }] })}\n\n`,
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        created: 0,
        model: 'sim-small',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      }),
    );
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const port = (upstream.address() as AddressInfo).port;
  h = await startHarness({
    keys: [{ name: 'one', permissions: ['read', 'write'], limits: { maxConcurrentTasks: 1 } as never }],
    config: {
      upstream: { baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-up', timeoutMs: 1_500 },
    } as never,
  });
}, 120_000);
let closed = false;
afterAll(async () => {
  if (!closed) await h?.simulator.close();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
}, 60_000);

describe('gateway: upstream outages', () => {
  it('a hanging upstream is answered 504 in bounded time and the key slot is freed', async () => {
    mode = 'hang';
    const t0 = Date.now();
    const r = await call(h.gateway, '/v1/chat/completions', { key: testKey('one'), body: chatBody() });
    console.log('hang', r.status, Date.now() - t0, (await r.text()).slice(0, 200));
    expect(r.status).toBe(504);
    mode = 'ok';
    const next = await call(h.gateway, '/v1/chat/completions', { key: testKey('one'), body: chatBody() });
    console.log('after', next.status, (await next.text()).slice(0, 200));
    expect(next.status).toBe(200);
  }, 60_000);

  it('a stream the upstream stalls mid-way ends cleanly with an error event in bounded time, freeing the slot', async () => {
    mode = 'stall-stream';
    const t0 = Date.now();
    const r = await call(h.gateway, '/v1/chat/completions', {
      key: testKey('one'),
      body: chatBody('hi', { stream: true }),
    });
    const text = await Promise.race([
      r.text().catch((error: unknown) => `__TRANSPORT_ERROR__ ${String((error as Error).cause ?? error)}`),
      new Promise<string>((res) => setTimeout(() => res('__STILL_OPEN__'), 15_000)),
    ]);
    console.log('stall', r.status, Date.now() - t0, text.slice(0, 300));
    mode = 'ok';
    const next = await call(h.gateway, '/v1/chat/completions', { key: testKey('one'), body: chatBody() });
    console.log('after stall', next.status, (await next.text()).slice(0, 200));
    expect(next.status).toBe(200);
    expect(text).not.toBe('__STILL_OPEN__');
    // The client should get a well-formed end of the stream (an error event), not a reset socket.
    expect(text).not.toMatch(/^__TRANSPORT_ERROR__/);
    expect(text).toMatch(/"code":"upstream_timeout"/);
  }, 60_000);

  it('a client that aborts a stalled stream frees its key slot', async () => {
    mode = 'stall-stream';
    const ac = new AbortController();
    const r = await fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testKey('one')}`, 'content-type': 'application/json' },
      body: JSON.stringify(chatBody('hi', { stream: true })),
      signal: ac.signal,
    });
    const reader = r.body!.getReader();
    await reader.read();
    const cutOff = upstreamCutOff;
    ac.abort();
    // The abort reaches the provider: its reply's connection is closed.
    for (let i = 0; i < 100 && upstreamCutOff === cutOff; i++)
      await new Promise((res) => setTimeout(res, 50));
    expect(upstreamCutOff).toBe(cutOff + 1);
    mode = 'ok';
    const next = await call(h.gateway, '/v1/chat/completions', { key: testKey('one'), body: chatBody() });
    console.log('after abort', next.status, (await next.text()).slice(0, 200));
    expect(next.status).toBe(200);
  }, 60_000);

  it('a stream slower in all than the time limit, but never silent for as long, passes whole', async () => {
    mode = 'slow-stream';
    const r = await call(h.gateway, '/v1/chat/completions', {
      key: testKey('one'),
      body: chatBody('hi', { stream: true }),
    });
    const text = await r.text();
    expect(r.status).toBe(200);
    expect(text).toContain('w6 ');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(text).not.toMatch(/upstream_timeout/);
  }, 60_000);

  it('after a timed-out stream and a client-aborted stream, the gateway closes in bounded time', async () => {
    const result = await Promise.race([
      h.close().then(() => 'closed'),
      new Promise<string>((res) => setTimeout(() => res('__CLOSE_HANGS__'), 20_000)),
    ]);
    closed = result === 'closed';
    expect(result).toBe('closed');
  }, 60_000);
});
