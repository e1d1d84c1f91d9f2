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
import { AnthropicClient } from './AnthropicClient.js';

const KEY = 'sk-ant-secret-do-not-log-5678';
const sim = useSimulators(KEY);

describe('AnthropicClient (@anthropic-ai/sdk) against the simulator', () => {
  it('chats with a system prompt, with usage, request id and the four rate limits', async () => {
    const s = await sim({
      quota: { requestsPerWindow: 50, inputTokensPerWindow: 20_000, outputTokensPerWindow: 4_000 },
    });
    const client = new AnthropicClient({ model: 'claude-sim', baseURL: s.url, apiKey: KEY });
    const reply = await client.chat({
      messages: [{ role: 'system', content: 'Be brief.' }, ...user('hello').messages],
      maxTokens: 40,
    });
    expect(reply.content).toMatch(/\w/);
    expect(reply.usage).toMatchObject({ cacheReadTokens: 0, cacheWriteTokens: 0 });
    expect(reply.usage.totalTokens).toBe(reply.usage.promptTokens + reply.usage.completionTokens);
    expect(reply.requestId).toMatch(/^req_sim_/);
    expect(reply.rateLimit).toMatchObject({
      limitRequests: 50,
      remainingRequests: 49,
      limitInputTokens: 20_000,
      remainingInputTokens: 20_000 - reply.usage.promptTokens,
      limitOutputTokens: 4_000,
      remainingOutputTokens: 4_000 - 40,
    });
    // The reset is when the bucket is full again: 80 output tokens reserved refill in 1.2 s.
    const second = await client.chat(user('again'));
    expect(second.rateLimit!.resetOutputTokensMs).toBeGreaterThan(200);
    expect(second.rateLimit!.resetOutputTokensMs).toBeLessThanOrEqual(2_200);
  });

  it('calls tools and carries their results back as tool_result blocks', async () => {
    const s = await sim();
    const client = new AnthropicClient({ model: 'claude-sim', baseURL: s.url, apiKey: KEY });
    const answer = await expectToolRoundTrip(client);
    expect(answer.content).toMatch(/\w/);
  });

  it('streams text and tool calls as chunks, usage on the last', async () => {
    const s = await sim();
    const client = new AnthropicClient({ model: 'claude-sim', baseURL: s.url, apiKey: KEY });
    const chunks = await lastValueFrom(client.stream({ ...user('stream'), maxTokens: 200 }).pipe(toArray()));
    expect(chunks[0]).toMatchObject({
      id: expect.stringMatching(/^msg_sim_/),
      requestId: expect.any(String),
    });
    expect(chunks.map((c) => c.content ?? '').join('')).toMatch(/\w+ \w+/);
    const last = chunks.at(-1)!;
    expect(last.usage!.completionTokens).toBeGreaterThan(0);
    expect(last.usage!.promptTokens).toBeGreaterThan(0);
    const called = await lastValueFrom(client.stream({ ...user('tool'), tools }).pipe(toArray()));
    const deltas = called.flatMap((c) => c.toolCallDeltas ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, name: 'lookup' });
    expect(JSON.parse(deltas.map((d) => d.arguments ?? '').join(''))).toHaveProperty('id');
    expect(called.at(-1)!.finishReason).toBe('tool_calls');
  });

  it('maps 429s: a rate limit with retry-after, a spend limit to QuotaExhaustedError', async () => {
    const s = await sim({
      quota: { outputTokensPerWindow: 50, windowMs: 60_000, requestBudget: 2 },
      completionTokens: [40, 40],
    });
    const client = new AnthropicClient({ model: 'claude-sim', baseURL: s.url, apiKey: KEY });
    await client.chat(user('first'));
    const limited = await failure(client.chat(user('second')));
    expect(ProviderRateLimitError.is(limited)).toBe(true);
    expect((limited as ProviderRateLimitError).retryAfterMs).toBeGreaterThanOrEqual(1_000);
    const fresh = await sim({ quota: { requestBudget: 1 } });
    const capped = new AnthropicClient({ model: 'claude-sim', baseURL: fresh.url, apiKey: KEY });
    await capped.chat(user('one'));
    const spent = await failure(capped.chat(user('two')));
    expect(QuotaExhaustedError.is(spent)).toBe(true);
    expect((spent as QuotaExhaustedError).isRetryable).toBe(false);
    expect((spent as QuotaExhaustedError).retryAfterMs).toBeUndefined();
  });

  it('makes one HTTP request per call (SDK retries off); 529 is retryable; the key is never in an error', async () => {
    const s = await sim({ faults: { error503: 1 } });
    const client = new AnthropicClient({ model: 'claude-sim', baseURL: s.url, apiKey: KEY });
    const overloaded = await failure(client.chat(user('x')));
    expect(overloaded).toMatchObject({ status: 529, isRetryable: true });
    expect(s.stats().requests).toBe(1);
    const wrong = new AnthropicClient({
      model: 'claude-sim',
      baseURL: s.url,
      apiKey: 'sk-ant-wrong-key-999',
    });
    const denied = await failure(wrong.chat(user('x')));
    expect(ProviderError.is(denied) && denied.status).toBe(401);
    expectNoKeyIn([overloaded, denied]);
  });

  it('ends on an abort with AbortError and on its own timeout with ProviderConnectionError', async () => {
    const s = await sim({ latency: { ttftMs: 5_000, perTokenMs: 0, jitter: 0 } });
    const client = new AnthropicClient({ model: 'claude-sim', baseURL: s.url, apiKey: KEY });
    const hasty = new AnthropicClient({ model: 'claude-sim', baseURL: s.url, apiKey: KEY, timeoutMs: 100 });
    await expectAbortAndTimeout(client, hasty);
  });
});
