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

function generate(sim: Simulator, body: unknown, method = 'generateContent', key = 'AIza-test') {
  const query = method === 'streamGenerateContent' ? '?alt=sse' : '';
  return fetch(`${sim.url}/v1beta/models/gemini-sim:${method}${query}`, {
    method: 'POST',
    headers: { 'x-goog-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const ask = (text: string, extra: Record<string, unknown> = {}) => ({
  contents: [{ role: 'user', parts: [{ text }] }],
  generationConfig: { maxOutputTokens: 40 },
  ...extra,
});

describe('simulator: Gemini generateContent', () => {
  it('answers with candidates, usageMetadata and a request id, charging only input to tokensPerWindow', async () => {
    const sim = await start({ quota: { tokensPerWindow: 10_000 } });
    const res = await generate(sim, ask('hello', { systemInstruction: { parts: [{ text: 'Be brief.' }] } }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      candidates: Array<{ content: { role: string; parts: Array<{ text: string }> }; finishReason: string }>;
      usageMetadata: { promptTokenCount: number; candidatesTokenCount: number; totalTokenCount: number };
    };
    expect(body.candidates[0]!.content.role).toBe('model');
    expect(body.candidates[0]!.content.parts[0]!.text).toMatch(/\w+/);
    const usage = body.usageMetadata;
    expect(usage.totalTokenCount).toBe(usage.promptTokenCount + usage.candidatesTokenCount);
    expect(sim.stats().tokens.charged).toBe(usage.promptTokenCount);
    expect(res.headers.get('x-request-id')).toMatch(/^req_sim_/);
  });

  it('streams data chunks, the last with finishReason and usage; function calls when tools are offered', async () => {
    const sim = await start();
    const text = await (await generate(sim, ask('hi'), 'streamGenerateContent')).text();
    const chunks = text
      .split('\r\n\r\n')
      .filter(Boolean)
      .map(
        (c) =>
          JSON.parse(c.replace(/^data: /, '')) as {
            candidates: Array<{ finishReason?: string }>;
            usageMetadata?: unknown;
          },
      );
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.at(-1)!.candidates[0]!.finishReason).toMatch(/STOP|MAX_TOKENS/);
    expect(chunks.at(-1)!.usageMetadata).toBeDefined();
    expect(chunks[0]!.usageMetadata).toBeUndefined();
    const tools = [{ functionDeclarations: [{ name: 'lookup', parametersJsonSchema: { type: 'object' } }] }];
    const called = (await (await generate(sim, ask('find', { tools }))).json()) as {
      candidates: Array<{ content: { parts: Array<{ functionCall?: { name: string } }> } }>;
    };
    expect(called.candidates[0]!.content.parts[0]!.functionCall?.name).toBe('lookup');
  });

  it('refuses past the per-minute window with RESOURCE_EXHAUSTED, QuotaFailure and RetryInfo', async () => {
    const sim = await start({ quota: { requestsPerWindow: 1, windowMs: 30_000 } });
    expect((await generate(sim, ask('a'))).status).toBe(200);
    const res = await generate(sim, ask('b'));
    expect(res.status).toBe(429);
    const { error } = (await res.json()) as {
      error: { status: string; details: Array<Record<string, unknown>> };
    };
    expect(error.status).toBe('RESOURCE_EXHAUSTED');
    const failure = error.details.find((d) => String(d['@type']).endsWith('QuotaFailure'));
    expect(failure).toMatchObject({
      violations: [{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' }],
    });
    const retry = error.details.find((d) => String(d['@type']).endsWith('RetryInfo'));
    expect(String(retry?.retryDelay)).toMatch(/^(29|30)s$/);
  });

  it('answers a used-up per-day quota with a per-day quotaId and no RetryInfo', async () => {
    const sim = await start({ quota: { requestBudget: 1 } });
    expect((await generate(sim, ask('a'))).status).toBe(200);
    const res = await generate(sim, ask('b'));
    const { error } = (await res.json()) as { error: { details: Array<Record<string, unknown>> } };
    expect(res.status).toBe(429);
    expect(error.details).toEqual([
      expect.objectContaining({
        violations: [expect.objectContaining({ quotaId: 'GenerateRequestsPerDayPerProjectPerModel' })],
      }),
    ]);
  });

  it('reads the key from x-goog-api-key or ?key=, and answers a wrong one with UNAUTHENTICATED', async () => {
    const sim = await start({ apiKeys: ['AIza-test'] });
    const byQuery = await fetch(`${sim.url}/v1beta/models/gemini-sim:generateContent?key=AIza-test`, {
      method: 'POST',
      body: JSON.stringify(ask('x')),
    });
    expect(byQuery.status).toBe(200);
    const wrong = await generate(sim, ask('x'), 'generateContent', 'AIza-wrong');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { status: 'UNAUTHENTICATED' } });
  });
});
