// conversations whose provider fails or hangs mid-way, and hostile POST /chat bodies.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, startHarness, testKey } from '../test-support/harness.js';

/** How the fake OpenAI upstream answers once `okCalls` calls have been answered well. */
let after: 'ok' | 'error500' | 'hang' = 'ok';
let okCalls = Number.POSITIVE_INFINITY;
let calls = 0;
let upstream: Server;
let h: Harness;

function completion(stream: boolean): string {
  const text = 'The answer is 42.';
  if (!stream)
    return JSON.stringify({
      id: 'c',
      object: 'chat.completion',
      created: 0,
      model: 'sim-small',
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
    });
  const chunk = (delta: object, extra: object = {}) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'sim-small', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
  return `${chunk({ role: 'assistant', content: text })}${chunk({}, { usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 } })}data: [DONE]\n\n`;
}

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      calls++;
      if (calls > okCalls && after === 'hang') return;
      if (calls > okCalls && after === 'error500') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"boom","type":"server_error"}}');
        return;
      }
      const stream = (JSON.parse(body || '{}') as { stream?: boolean }).stream === true;
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      res.end(completion(stream));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const port = (upstream.address() as AddressInfo).port;
  h = await startHarness({
    keys: [{ name: 'alice', permissions: ['read', 'write'] }],
    config: {
      upstream: { baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-up', timeoutMs: 800, maxAttempts: 1 },
      conversations: { maxTokens: 16 },
    },
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
}, 30_000);

const alice = testKey('alice');
const profile = { model: 'sim-small', temperature: 0.5, personality: 'plain' };

describe('conversations, hostile bodies and failing providers', () => {
  it('num_agents and turns at absurd values are a 400, never run', async () => {
    for (const bad of [0, -1, 1e9, '3', 2.5, null]) {
      for (const field of ['num_agents', 'turns']) {
        const r = await call(h.gateway, '/chat', { key: alice, body: { message: 'q', [field]: bad } });
        await r.text();
        expect([field, bad, r.status]).toEqual([field, bad, 400]);
      }
    }
  });

  it('agents with the same agent_id are a 400 naming `agents`, not a 500', async () => {
    const r = await call(h.gateway, '/chat', {
      key: alice,
      body: {
        message: 'q',
        agents: [
          { ...profile, agent_id: 'a' },
          { ...profile, agent_id: 'a' },
        ],
      },
    });
    expect(r.status).toBe(400);
  });

  it('an agent_id like the generated names (`agent_1`) next to a cycled profile is a 400 or runs, not a 500', async () => {
    const r = await call(h.gateway, '/chat', {
      key: alice,
      body: { message: 'q', num_agents: 2, turns: 1, agents: [{ ...profile, agent_id: 'agent_1' }] },
    });
    expect(r.status).toBeLessThan(500);
  });

  it('a provider that answers 500 after the first turn: the conversation ends `failed`, the first turn kept', async () => {
    calls = 0;
    okCalls = 2;
    after = 'error500';
    const r = await call(h.gateway, '/chat', {
      key: alice,
      body: { message: 'What is 6 x 7?', num_agents: 2, turns: 2, agents: [profile] },
    });
    const body = (await r.json()) as { conversation_id: string; metadata: { status: string } };
    expect(body.metadata.status).toBe('failed');
    const stored = await call(h.gateway, `/conversations/${body.conversation_id}`, { key: alice });
    const detail = (await stored.json()) as {
      metadata: { status: string };
      messages: { content: string | null }[];
    };
    expect(detail.metadata.status).toBe('failed');
    expect(detail.messages.filter((m) => m.content).length).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('a provider that hangs mid-way: the conversation ends `failed` in bounded time, not stuck `running`', async () => {
    calls = 0;
    okCalls = 1;
    after = 'hang';
    const t0 = Date.now();
    const r = await call(h.gateway, '/chat', {
      key: alice,
      body: { message: 'What is 6 x 7?', num_agents: 2, turns: 1, agents: [profile] },
    });
    const body = (await r.json()) as { conversation_id: string; metadata: { status: string } };
    expect(body.metadata.status).toBe('failed');
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(h.gateway.services.conversations.running).toBe(0);
  }, 30_000);
});
