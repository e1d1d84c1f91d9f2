import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatorOptions } from './options.js';
import { type Simulator, startSimulator } from './server.js';

const sims: Simulator[] = [];
async function start(options: SimulatorOptions = {}) {
  const sim = await startSimulator({ latency: { ttftMs: 2, perTokenMs: 0, jitter: 0 }, ...options });
  sims.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const HEADERS = {
  'x-api-key': 'sk-ant-test',
  'anthropic-version': '2023-06-01',
  'content-type': 'application/json',
};

function post(sim: Simulator, body: unknown, headers: Record<string, string> = HEADERS) {
  return fetch(`${sim.url}/v1/messages`, { method: 'POST', headers, body: JSON.stringify(body) });
}

const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'claude-sim',
  max_tokens: 50,
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('simulator: Anthropic Messages API', () => {
  it('answers a message with usage, anthropic-ratelimit-* headers and a request id', async () => {
    const sim = await start({
      quota: { requestsPerWindow: 10, inputTokensPerWindow: 5_000, outputTokensPerWindow: 500 },
    });
    const res = await post(sim, ask('hello', { system: 'Be brief.' }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      type: string;
      content: Array<{ type: string; text: string }>;
      stop_reason: string;
      usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens: number };
    };
    expect(body.type).toBe('message');
    expect(body.content[0]!.type).toBe('text');
    expect(['end_turn', 'max_tokens']).toContain(body.stop_reason);
    expect(body.usage.output_tokens).toBeLessThanOrEqual(50);
    expect(body.usage.cache_read_input_tokens).toBe(0);
    expect(res.headers.get('request-id')).toMatch(/^req_sim_/);
    expect(res.headers.get('anthropic-ratelimit-requests-remaining')).toBe('9');
    const input = Number(res.headers.get('anthropic-ratelimit-input-tokens-remaining'));
    expect(input).toBe(5_000 - body.usage.input_tokens);
    // Output is charged as max_tokens at admission: the headers are written then.
    expect(res.headers.get('anthropic-ratelimit-output-tokens-remaining')).toBe('450');
    expect(res.headers.get('anthropic-ratelimit-output-tokens-reset')).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/,
    );
    expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });

  it('streams server-sent events in order, with tool_use blocks when tools are offered', async () => {
    const sim = await start();
    const tools = [
      { name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } } } },
    ];
    const res = await post(sim, ask('find it', { stream: true, tools }));
    const text = await res.text();
    const types = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(text).toMatch(
      /"content_block":\{"type":"tool_use","id":"toolu_[^"]+","name":"lookup","input":\{\}\}/,
    );
    expect(text).toMatch(/"delta":\{"stop_reason":"tool_use"/);
  });

  it('refuses past a bucket with 429 rate_limit_error and retry-after, and gives unused output back', async () => {
    const sim = await start({
      quota: { outputTokensPerWindow: 100, windowMs: 60_000 },
      completionTokens: [5, 5],
    });
    expect((await post(sim, ask('a', { max_tokens: 100 }))).status).toBe(200);
    // 5 tokens were produced: 95 came back, so a second call of max_tokens 90 fits.
    expect((await post(sim, ask('b', { max_tokens: 90 }))).status).toBe(200);
    const refused = await post(sim, ask('c', { max_tokens: 100 }));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.headers.get('retry-after-ms')).toBeNull();
    const body = (await refused.json()) as { type: string; error: { type: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(sim.stats()).toMatchObject({ admitted: 2, rateLimited: 1 });
  });

  it('answers a reached spend limit with its error code and no retry-after', async () => {
    const sim = await start({ quota: { requestBudget: 1 } });
    expect((await post(sim, ask('a'))).status).toBe(200);
    const res = await post(sim, ask('b'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await res.json()).toMatchObject({
      error: { type: 'rate_limit_error', details: { error_code: 'enforced_spend_limit_reached' } },
    });
  });

  it('answers bad requests, a missing version and a wrong key in its error shape', async () => {
    const sim = await start({ apiKeys: ['sk-ant-test'] });
    const noMax = await post(sim, { model: 'claude-sim', messages: [{ role: 'user', content: 'x' }] });
    expect(noMax.status).toBe(400);
    expect(await noMax.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const { 'anthropic-version': _v, ...unversioned } = HEADERS;
    expect((await post(sim, ask('x'), unversioned)).status).toBe(400);
    const wrong = await post(sim, ask('x'), { ...HEADERS, 'x-api-key': 'sk-wrong' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });
});
