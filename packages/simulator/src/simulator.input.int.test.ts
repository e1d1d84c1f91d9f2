import { request as httpRequest } from 'node:http';
import { InvalidArgumentError } from '@tollgate/core';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatorOptions } from './options.js';
import { type Simulator, startSimulator } from './server.js';

const sims: Simulator[] = [];
async function start(options: SimulatorOptions = {}) {
  const sim = await startSimulator({ latency: { ttftMs: 1, perTokenMs: 0, jitter: 0 }, ...options });
  sims.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const headers = { authorization: 'Bearer sk-test', 'content-type': 'application/json' };
async function post(sim: Simulator, body: string) {
  const res = await fetch(`${sim.baseURL}/chat/completions`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as { error?: Record<string, unknown> } };
}
const withMessages = (messages: unknown, extra = {}) =>
  JSON.stringify({ model: 'sim-small', messages, max_tokens: 5, ...extra });

describe('simulator options', () => {
  it('rejects options out of range, naming each', async () => {
    const bad = startSimulator({
      port: 70_000,
      quota: { requestsPerWindow: -1, windowMs: Number.NaN },
      latency: { jitter: 2 },
      faults: { error500: 1.5 },
      maxBodyBytes: 0,
    });
    await expect(bad).rejects.toThrow(InvalidArgumentError);
    await expect(startSimulator({ quota: { requestsPerWindow: -1, windowMs: Number.NaN } })).rejects.toThrow(
      /SimulatorOptions\.quota\.requestsPerWindow.*SimulatorOptions\.quota\.windowMs/s,
    );
    await expect(startSimulator({ latency: { jitter: 2 } })).rejects.toThrow(/latency\.jitter/);
    await expect(startSimulator({ completionTokens: [50, 10] })).rejects.toThrow(/completionTokens/);
  });
});

describe('simulator against bad input', () => {
  it.each([
    ['a null message', [null], 'messages[0]'],
    ['a numeric message', [1], 'messages[0]'],
    ['an object as content', [{ role: 'user', content: { a: 1 } }], 'messages[0].content'],
    ['an unknown role', [{ role: 'wizard', content: 'hi' }], 'messages[0].role'],
  ])('answers 400 with an OpenAI-style error for %s', async (_, messages, param) => {
    const sim = await start();
    const { status, body } = await post(sim, withMessages(messages));
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(body.error?.message).toContain(param);
    expect(sim.stats().badRequests).toBe(1);
  });

  it('answers 400 for a null tool and for a tool schema nested too deep to walk', async () => {
    const sim = await start();
    const hi = [{ role: 'user', content: 'hi' }];
    expect((await post(sim, withMessages(hi, { tools: [null] }))).body.error?.param).toBe('tools[0]');
    let schema: unknown = { type: 'string' };
    for (let i = 0; i < 200; i++) schema = { type: 'object', properties: { a: schema } };
    const deep = await post(
      sim,
      withMessages(hi, { tools: [{ type: 'function', function: { name: 't', parameters: schema } }] }),
    );
    expect(deep.status).toBe(400);
    expect(deep.body.error?.message).toMatch(/nested deeper/);
  });

  it.each([1e300, 0, 2.5, '12'])('answers 400 for max_tokens %s', async (maxTokens) => {
    const sim = await start();
    const { status, body } = await post(
      sim,
      JSON.stringify({
        model: 'sim-small',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: maxTokens,
      }),
    );
    expect(status).toBe(400);
    expect(body.error?.param).toBe('max_tokens');
  });

  it('refuses a body over maxBodyBytes with 413, by its content-length and when sent chunked', async () => {
    const sim = await start({ maxBodyBytes: 10_000 });
    const big = withMessages([{ role: 'user', content: 'x'.repeat(20_000) }]);
    const declared = await post(sim, big);
    expect(declared.status).toBe(413);
    expect(declared.body.error).toMatchObject({ code: 'request_too_large' });
    // No content-length: the limit holds as the chunks arrive.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${sim.baseURL}/chat/completions`, { method: 'POST', headers }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write('x'.repeat(1_000));
      req.end();
    });
    expect(chunked).toBe(413);
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
    const fits = await post(sim, withMessages([{ role: 'user', content: 'small' }]));
    expect(fits.status).toBe(200);
  });
});

describe('simulator quota budget', () => {
  it("answers 429 insufficient_quota without retry-after once a key's requestBudget is used up", async () => {
    const sim = await start({ quota: { requestBudget: 2 } });
    const client = new OpenAI({ baseURL: sim.baseURL, apiKey: 'sk-test', maxRetries: 0 });
    const ask = () =>
      client.chat.completions.create({
        model: 'sim-small',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 5,
      });
    await ask();
    await ask();
    const error = (await ask().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.error).toMatchObject({ code: 'insufficient_quota', type: 'insufficient_quota' });
    expect(error.headers.get('retry-after')).toBeNull();
    expect(sim.stats()).toMatchObject({ admitted: 2, quotaExhausted: 1, rateLimited: 0 });
  });
});
