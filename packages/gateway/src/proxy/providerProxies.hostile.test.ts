// Hostile upstreams: the Anthropic and Gemini pass-through upstreams against a hostile fake upstream on 127.0.0.1.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { call, type Harness, startHarness, testKey } from '../test-support/harness.js';

type Mode = 'ok' | 'cut-json' | 'stall-json' | 'cut-error-body' | 'always-429' | 'cut-stream';
let mode: Mode = 'ok';
let seen: { url: string; headers: IncomingMessage['headers'] }[] = [];
let upstream: Server;
let h: Harness;
let base = '';

/** A gateway whose Anthropic and Gemini upstream is the fake; `tight`: one Anthropic request per 300 ms sliding window. */
function gatewayWith(tight: boolean): Promise<Harness> {
  const up = { baseUrl: base, apiKey: 'sk-up', timeoutMs: 1_000, maxAttempts: 2 };
  // A lease never released holds a sliding window shut: the next call waits and gets 503.
  const limits = {
    rates: [{ resource: 'requests', limit: 1, windowMs: 300, algorithm: 'sliding-window' as const }],
    resourceWaitTimeoutSeconds: 3,
  };
  return startHarness({
    keys: [{ name: 'one', permissions: ['read', 'write'] }],
    config: { anthropic: tight ? { ...up, limits } : up, gemini: up },
  });
}

const anthropicReply = JSON.stringify({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-x',
  content: [{ type: 'text', text: 'ok' }],
  stop_reason: 'end_turn',
  usage: { input_tokens: 3, output_tokens: 1 },
});

beforeAll(async () => {
  upstream = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    req.resume();
    if (mode === 'always-429') {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end('{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}');
      return;
    }
    if (mode === 'cut-json' || mode === 'cut-error-body') {
      // Headers and half a body, then the connection dies.
      res.writeHead(mode === 'cut-json' ? 200 : 500, { 'content-type': 'application/json' });
      res.write(anthropicReply.slice(0, 20));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (mode === 'cut-stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const start = {
        type: 'message_start',
        message: { id: 'm', usage: { input_tokens: 3, output_tokens: 0 } },
      };
      res.write(`event: message_start\ndata: ${JSON.stringify(start)}\n\n`);
      setTimeout(() => res.socket?.destroy(), 30);
      return;
    }
    if (mode === 'stall-json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(anthropicReply.slice(0, 20));
      return; // never ends
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(anthropicReply);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  h = await gatewayWith(false);
}, 60_000);

afterAll(async () => {
  await h?.close();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
}, 30_000);

const anthropicBody = { model: 'claude-x', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] };
const keyActive = (g: Harness) =>
  g.gateway.services.governance
    .governors()
    .find((x) => x.name === 'key:one')!
    .checkResourceAvailability().activeTasks;

/** A normal request after the hostile one: answered 200 once the 300 ms window has passed, unless a lease leaked. */
async function nextIsServed(g: Harness): Promise<number> {
  mode = 'ok';
  const r = await call(g.gateway, '/v1/messages', { key: testKey('one'), body: anthropicBody });
  await r.text();
  return r.status;
}

describe('pass-through upstreams against a hostile upstream', () => {
  it('a JSON reply cut mid-body: the Anthropic quota lease is released (next call served) and the caller gets 502, not 500', async () => {
    const g = await gatewayWith(true);
    onTestFinished(() => g.close());
    mode = 'cut-json';
    const r = await call(g.gateway, '/v1/messages', { key: testKey('one'), body: anthropicBody });
    await r.text();
    expect(keyActive(g)).toBe(0);
    expect(await nextIsServed(g)).toBe(200);
    expect(r.status).toBe(502);
  }, 20_000);

  it('a JSON reply stalled mid-body past timeoutMs: the Anthropic quota lease is released and the caller gets 504, not 500', async () => {
    const g = await gatewayWith(true);
    onTestFinished(() => g.close());
    mode = 'stall-json';
    const r = await call(g.gateway, '/v1/messages', { key: testKey('one'), body: anthropicBody });
    await r.text();
    expect(keyActive(g)).toBe(0);
    expect(await nextIsServed(g)).toBe(200);
    expect(r.status).toBe(504);
  }, 20_000);

  it('a 5xx whose error body is cut mid-way releases the Anthropic quota lease', async () => {
    const g = await gatewayWith(true);
    onTestFinished(() => g.close());
    mode = 'cut-error-body';
    const r = await call(g.gateway, '/v1/messages', { key: testKey('one'), body: anthropicBody });
    await r.text();
    expect(r.status).toBeGreaterThanOrEqual(500);
    expect(await nextIsServed(g)).toBe(200);
  }, 20_000);

  it("the client's anthropic-version header reaches Anthropic (the gateway's default only when none is sent)", async () => {
    mode = 'ok';
    seen = [];
    const r = await call(h.gateway, '/v1/messages', {
      key: testKey('one'),
      body: anthropicBody,
      headers: { 'anthropic-version': '2099-01-01' },
    });
    expect(r.status).toBe(200);
    expect(seen.at(-1)?.headers['anthropic-version']).toBe('2099-01-01');
    const plain = await call(h.gateway, '/v1/messages', { key: testKey('one'), body: anthropicBody });
    expect(plain.status).toBe(200);
    expect(seen.at(-1)?.headers['anthropic-version']).toBe('2023-06-01');
  }, 20_000);

  it('a Gemini model name with an encoded "?" cannot add a query string to the upstream URL', async () => {
    mode = 'ok';
    seen = [];
    const r = await call(h.gateway, '/v1beta/models/gemini-x%3Fkey%3Dstolen%26x%3D:generateContent', {
      key: testKey('one'),
      body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
    });
    await r.text();
    expect(r.status).toBe(400);
    for (const s of seen) expect(new URL(s.url, 'http://x').search).toBe('');
  }, 20_000);

  it('a Gemini model name with a malformed percent escape is a 400/404, not a 500', async () => {
    mode = 'ok';
    const r = await call(h.gateway, '/v1beta/models/gemini%E0%A4%A:generateContent', {
      key: testKey('one'),
      body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
    });
    await r.text();
    expect(r.status).toBeLessThan(500);
  }, 20_000);
});
