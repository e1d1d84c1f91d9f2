import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ProviderError, ProviderRateLimitError, QuotaExhaustedError } from '../errors.js';
import {
  expectAbortAndTimeout,
  expectNoKeyIn,
  expectToolRoundTrip,
  failure,
  tools,
  user,
  useSimulators,
} from '../test-support/simulatorClients.js';
import { GeminiClient } from './GeminiClient.js';

const KEY = 'AIza-secret-do-not-log-4321';
const sim = useSimulators(KEY);

describe('GeminiClient (@google/genai) against the simulator', () => {
  it('chats with a system instruction, with usage and request id', async () => {
    const s = await sim();
    const client = new GeminiClient({ model: 'gemini-sim', baseURL: s.url, apiKey: KEY });
    const reply = await client.chat({
      messages: [{ role: 'system', content: 'Be brief.' }, ...user('hello').messages],
      maxTokens: 40,
    });
    expect(reply.content).toMatch(/\w/);
    expect(reply.usage.totalTokens).toBe(reply.usage.promptTokens + reply.usage.completionTokens);
    expect(reply.usage.completionTokens).toBeLessThanOrEqual(40);
    expect(reply.requestId).toMatch(/^req_sim_/);
    expect(reply.id).toMatch(/^sim-/);
  });

  it('calls functions and carries their results back as functionResponse parts', async () => {
    const s = await sim();
    const client = new GeminiClient({ model: 'gemini-sim', baseURL: s.url, apiKey: KEY });
    await expectToolRoundTrip(client);
  });

  it('streams text and function calls as chunks, usage last', async () => {
    const s = await sim();
    const client = new GeminiClient({ model: 'gemini-sim', baseURL: s.url, apiKey: KEY });
    const chunks = await lastValueFrom(client.stream({ ...user('stream'), maxTokens: 200 }).pipe(toArray()));
    expect(chunks[0]).toMatchObject({ id: expect.stringMatching(/^sim-/), requestId: expect.any(String) });
    expect(chunks.map((c) => c.content ?? '').join('')).toMatch(/\w+ \w+/);
    expect(chunks.at(-1)!.usage!.completionTokens).toBeGreaterThan(0);
    const called = await lastValueFrom(client.stream({ ...user('tool'), tools }).pipe(toArray()));
    const deltas = called.flatMap((c) => c.toolCallDeltas ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, name: 'lookup' });
    expect(called.some((c) => c.finishReason === 'tool_calls')).toBe(true);
  });

  it('maps RESOURCE_EXHAUSTED: per minute to a rate limit with retryDelay, per day to QuotaExhaustedError', async () => {
    const s = await sim({ quota: { requestsPerWindow: 1, windowMs: 30_000 } });
    const client = new GeminiClient({ model: 'gemini-sim', baseURL: s.url, apiKey: KEY });
    await client.chat(user('first'));
    const limited = await failure(client.chat(user('second')));
    expect(ProviderRateLimitError.is(limited)).toBe(true);
    expect((limited as ProviderRateLimitError).retryAfterMs).toBeGreaterThanOrEqual(29_000);
    const daily = await sim({ quota: { requestBudget: 1 } });
    const capped = new GeminiClient({ model: 'gemini-sim', baseURL: daily.url, apiKey: KEY });
    await capped.chat(user('one'));
    const spent = await failure(capped.chat(user('two')));
    expect(QuotaExhaustedError.is(spent)).toBe(true);
    expect((spent as QuotaExhaustedError).isRetryable).toBe(false);
  });

  it('makes one HTTP request per call (SDK retries off); the key is never in an error', async () => {
    const s = await sim({ faults: { error503: 1 } });
    const client = new GeminiClient({ model: 'gemini-sim', baseURL: s.url, apiKey: KEY });
    const unavailable = await failure(client.chat(user('x')));
    expect(unavailable).toMatchObject({ status: 503, isRetryable: true });
    expect(s.stats().requests).toBe(1);
    const wrong = new GeminiClient({ model: 'gemini-sim', baseURL: s.url, apiKey: 'AIza-wrong-key-999' });
    const denied = await failure(wrong.chat(user('x')));
    expect(ProviderError.is(denied) && denied.status).toBe(401);
    expectNoKeyIn([unavailable, denied]);
  });

  it('ends on an abort with AbortError and on its own timeout with ProviderConnectionError', async () => {
    const s = await sim({ latency: { ttftMs: 5_000, perTokenMs: 0, jitter: 0 } });
    const client = new GeminiClient({ model: 'gemini-sim', baseURL: s.url, apiKey: KEY });
    const hasty = new GeminiClient({ model: 'gemini-sim', baseURL: s.url, apiKey: KEY, timeoutMs: 100 });
    await expectAbortAndTimeout(client, hasty);
  });
});
