import { flushMicrotasks, InvalidArgumentError, ManualClock, TollgateError } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { APICallError, generateText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { record, tokenCounter } from './test-support/simulated.js';
import { tollgateMiddleware } from './tollgateMiddleware.js';
import type { ModelGenerateResult } from './types.js';

const reply = (text: string, input = 10, output = 3): ModelGenerateResult => ({
  content: [{ type: 'text', text }],
  finishReason: { unified: 'stop', raw: 'stop' },
  usage: {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  },
  warnings: [],
});

const rateLimited = (retryAfterMs: number) =>
  new APICallError({
    message: 'Rate limit reached',
    url: 'http://127.0.0.1/v1/chat/completions',
    requestBodyValues: {},
    statusCode: 429,
    responseHeaders: { 'retry-after-ms': String(retryAfterMs) },
    isRetryable: true,
  });

/** A mock model whose calls answer from `answers` in turn (an error is thrown). */
function scripted(answers: Array<ModelGenerateResult | Error>) {
  return new MockLanguageModelV3({
    provider: 'mock',
    modelId: 'gpt-4o-mini',
    doGenerate: async () => {
      const next = answers.shift()!;
      if (next instanceof Error) throw next;
      return next;
    },
  });
}

describe('tollgateMiddleware', () => {
  it('rejects options out of range, naming them', () => {
    const call = (options: unknown) => () => tollgateMiddleware(options as never);
    expect(call({ governors: [] })).toThrow(InvalidArgumentError);
    expect(call({})).toThrow(/tollgateMiddleware\.governors/);
    const governor = new ResourceGovernor({});
    expect(call({ governors: [governor], defaultMaxTokens: 0 })).toThrow(/defaultMaxTokens/);
    expect(call({ governors: [governor], retry: { maxAttempts: 0 } })).toThrow(
      /tollgateMiddleware\.retry\.maxAttempts/,
    );
    expect(call({ governors: [governor], providerCharging: 'later' })).toThrow(/providerCharging/);
  });

  it('reserves prompt + max output tokens (input and output apart) and sends the default bound', async () => {
    const governor = new ResourceGovernor({ maxRequestsPerMinute: 10 });
    const { events } = record(governor);
    const inner = scripted([reply('Hi.', 14, 3)]);
    const middleware = tollgateMiddleware({ governors: [governor], tokenCounter, defaultMaxTokens: 256 });
    await generateText({
      model: wrapLanguageModel({ model: inner, middleware }),
      prompt: 'Hello there',
      maxRetries: 0,
    });
    expect(inner.doGenerateCalls[0]!.maxOutputTokens).toBe(256);
    const acquired = events.find((e) => e.type === 'acquired');
    const prompt = tokenCounter.countMessages([{ role: 'user', content: 'Hello there' }], {
      model: 'gpt-4o-mini',
    });
    expect(acquired).toMatchObject({
      cost: { requests: 1, tokens: prompt + 256, inputTokens: prompt, outputTokens: 256 },
    });
    // Settled with the usage reported; the provider governor (the last) as charged at admission.
    expect(events.find((e) => e.type === 'settled')).toMatchObject({
      actual: { tokens: 14 + 256, inputTokens: 14, outputTokens: 3 },
    });
  });

  it('uses the estimate option for prompt tokens, and refuses an estimate that is not a count', async () => {
    const governor = new ResourceGovernor({});
    const { events } = record(governor);
    const estimate = (params: { prompt: unknown[] }) => params.prompt.length * 1_000;
    const model = wrapLanguageModel({
      model: scripted([reply('ok')]),
      middleware: tollgateMiddleware({ governors: [governor], estimate, providerCharging: 'usage' }),
    });
    await generateText({ model, prompt: 'x', maxOutputTokens: 5, maxRetries: 0 });
    expect(events.find((e) => e.type === 'acquired')).toMatchObject({
      cost: { tokens: 1_005, inputTokens: 1_000 },
    });
    const bad = wrapLanguageModel({
      model: scripted([reply('ok')]),
      middleware: tollgateMiddleware({ governors: [governor], estimate: () => -1 }),
    });
    await expect(generateText({ model: bad, prompt: 'x', maxRetries: 0 })).rejects.toThrow(/estimate/);
  });

  it('honours a retry-after far past the AI SDK’s 60 s: a 2-minute cooldown, then the retry succeeds', async () => {
    const clock = new ManualClock();
    const governor = new ResourceGovernor({ maxRequestsPerMinute: 10 }, { clock });
    const { events } = record(governor);
    const middleware = tollgateMiddleware({ governors: [governor], tokenCounter, clock });
    const model = wrapLanguageModel({
      model: scripted([rateLimited(120_000), reply('At last.')]),
      middleware,
    });
    let text: string | undefined;
    const call = generateText({ model, prompt: 'hi', maxRetries: 0 }).then((r) => {
      text = r.text;
    });
    await flushMicrotasks();
    expect(events.find((e) => e.type === 'cooldown')).toMatchObject({ ms: 120_000 });
    clock.advance(119_999);
    await flushMicrotasks();
    expect(text).toBeUndefined(); // still waiting out the provider's wait
    clock.advance(1);
    await call;
    expect(text).toBe('At last.');
    expect(middleware.stats).toMatchObject({ rateLimited: 1, retries: 1, succeeded: 1 });
  });

  it('a retry-after past maxRetryAfterMs caps the cooldown and hands the 429 to the caller', async () => {
    const clock = new ManualClock();
    const governor = new ResourceGovernor({}, { clock });
    const { events } = record(governor);
    const middleware = tollgateMiddleware({
      governors: [governor],
      tokenCounter,
      clock,
      maxRetryAfterMs: 60_000,
    });
    const model = wrapLanguageModel({ model: scripted([rateLimited(3_600_000)]), middleware });
    const error = await generateText({ model, prompt: 'hi', maxRetries: 0 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(error) && error.statusCode).toBe(429);
    expect(events.find((e) => e.type === 'cooldown')).toMatchObject({ ms: 60_000 });
    expect(middleware.stats).toMatchObject({ rateLimited: 1, retries: 0, failed: 1 });
  });

  it('an abort while waiting for the governor rejects the call and leaves nothing reserved', async () => {
    const clock = new ManualClock();
    const governor = new ResourceGovernor({ maxRequestsPerMinute: 1 }, { clock });
    const model = wrapLanguageModel({
      model: scripted([reply('one'), reply('two')]),
      middleware: tollgateMiddleware({ governors: [governor], tokenCounter, clock }),
    });
    await generateText({ model, prompt: 'first', maxRetries: 0 });
    const controller = new AbortController();
    const second = generateText({ model, prompt: 'second', maxRetries: 0, abortSignal: controller.signal });
    await flushMicrotasks();
    expect(governor.queued).toBe(1);
    controller.abort();
    const error = await second.catch((e: unknown) => e);
    expect(TollgateError.is(error) || (error as Error).name === 'AbortError').toBe(true);
    expect(governor.queued).toBe(0);
  });
});
