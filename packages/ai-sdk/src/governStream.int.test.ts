import type { GovernorEvent } from '@tollgate/limits';
import type { Simulator } from '@tollgate/simulator';
import { streamText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterEach, describe, expect, it } from 'vitest';
import {
  providerGovernor,
  record,
  simulatedModel,
  simulator,
  tokenCounter,
} from './test-support/simulated.js';
import { tollgateMiddleware } from './tollgateMiddleware.js';
import type { ModelStreamPart } from './types.js';

const sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

/** Resolves when `events` holds a `type` event (at most `ms`). */
function until(events: GovernorEvent[], type: GovernorEvent['type'], ms = 10_000): Promise<void> {
  return condition(() => events.some((e) => e.type === type), `no '${type}' event`, ms);
}

/** Resolves when `holds()` is true (polled each macrotask, at most `ms`); else fails with `message`. */
async function condition(holds: () => boolean, message: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!holds()) {
    if (Date.now() > end) throw new Error(`${message} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const settledOf = (events: GovernorEvent[]) =>
  events.flatMap((e) => (e.type === 'settled' ? [e.actual] : []));

/** A model stream that delivers `parts`, then fails as a dropped connection does. */
function partsThenError(parts: ModelStreamPart[]): ReadableStream<ModelStreamPart> {
  return new ReadableStream<ModelStreamPart>({
    pull(controller) {
      const part = parts.shift();
      if (part) controller.enqueue(part);
      else controller.error(new Error('connection reset'));
    },
  });
}

/** A slow simulator (long replies) so a stream can be stopped in its middle. */
async function slowStream() {
  const sim = await simulator({
    latency: { ttftMs: 5, perTokenMs: 3, jitter: 0 },
    completionTokens: [200, 200],
  });
  sims.push(sim);
  const provider = providerGovernor(100, 60_000, { maxConcurrentTasks: 5 });
  const { events } = record(provider);
  const middleware = tollgateMiddleware({ governors: [provider], tokenCounter });
  const model = wrapLanguageModel({ model: simulatedModel(sim), middleware });
  return { sim, provider, events, middleware, model };
}

describe('streams through the tollgate never leak a lease', () => {
  it('a stream aborted by its signal in the middle is settled with what it produced, and released', async () => {
    const { provider, events, model } = await slowStream();
    const controller = new AbortController();
    const result = streamText({
      model,
      prompt: 'Tell a long story.',
      abortSignal: controller.signal,
      maxRetries: 0,
    });
    let text = '';
    for await (const delta of result.textStream) {
      text += delta;
      if (text.length > 20) controller.abort();
    }
    await until(events, 'released');
    const [actual] = settledOf(events);
    expect(actual!.outputTokens).toBeGreaterThan(0);
    expect(actual!.outputTokens).toBeLessThan(200); // not the whole reply: what arrived before the abort
    expect(events.filter((e) => e.type === 'acquired')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'released')).toHaveLength(1);
    provider.dispose();
  });

  it('a reader that cancels the model stream settles and releases the lease, and drops the HTTP reply', async () => {
    const { sim, provider, events, model } = await slowStream();
    // Frameworks that read the model directly (not through streamText) cancel its stream.
    const { stream } = await model.doStream({
      prompt: [{ role: 'user', content: [{ type: 'text', text: 'Tell a long story.' }] }],
    });
    const reader = stream.getReader();
    let parts = 0;
    while (parts < 5 && !(await reader.read()).done) parts++;
    await reader.cancel();
    await until(events, 'released');
    expect(settledOf(events)).toHaveLength(1);
    expect(settledOf(events)[0]!.outputTokens).toBeLessThan(200);
    // The simulator sees the dropped reply when its socket closes: a loaded machine may take a while.
    await condition(() => sim.stats().clientAborts > 0, 'the simulator saw no client abort');
    expect(sim.stats().clientAborts).toBe(1);
    provider.dispose();
  });

  it('streamText whose reader stops early still settles the lease, when the SDK has drained the reply', async () => {
    const { provider, events, model } = await slowStream();
    const result = streamText({ model, prompt: 'Tell a long story.', maxRetries: 0 });
    const reader = result.textStream.getReader();
    await reader.read();
    await reader.cancel();
    await until(events, 'released');
    expect(settledOf(events)).toEqual([expect.objectContaining({ outputTokens: 200 })]);
    provider.dispose();
  });

  it('a stream that fails in its middle is settled once with what it produced, and released', async () => {
    const provider = providerGovernor(100, 60_000);
    const { events } = record(provider);
    const middleware = tollgateMiddleware({ governors: [provider], tokenCounter });
    const inner = new MockLanguageModelV3({
      doStream: async () => ({
        stream: partsThenError([
          { type: 'stream-start', warnings: [] },
          { type: 'text-start', id: 't' },
          { type: 'text-delta', id: 't', delta: 'Half an answer' },
        ]),
      }),
    });
    const result = streamText({
      model: wrapLanguageModel({ model: inner, middleware }),
      prompt: 'hi',
      maxRetries: 0,
    });
    const error = await (async () => {
      await result.consumeStream();
      return result.text;
    })().catch((e: unknown) => e);
    expect(String(error)).toMatch(/connection reset/);
    await until(events, 'released');
    expect(settledOf(events)).toEqual([
      {
        tokens: expect.any(Number),
        inputTokens: expect.any(Number),
        outputTokens: tokenCounter.countText('Half an answer'),
      },
    ]);
    expect(middleware.stats).toMatchObject({ failed: 1, succeeded: 0 });
    provider.dispose();
  });

  it('the finish part settles with the reported usage, cache reads off the input, before the stream closes', async () => {
    const provider = providerGovernor(100, 60_000);
    const { events } = record(provider);
    const middleware = tollgateMiddleware({ governors: [provider], tokenCounter, providerCharging: 'usage' });
    const usage = {
      inputTokens: { total: 120, noCache: 20, cacheRead: 100, cacheWrite: undefined },
      outputTokens: { total: 7, text: 7, reasoning: undefined },
    };
    const inner = new MockLanguageModelV3({
      doStream: async () => ({
        stream: new ReadableStream<ModelStreamPart>({
          start(controller) {
            controller.enqueue({ type: 'text-start', id: 't' });
            controller.enqueue({ type: 'text-delta', id: 't', delta: 'Done.' });
            controller.enqueue({ type: 'text-end', id: 't' });
            controller.enqueue({ type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage });
            controller.close();
          },
        }),
      }),
    });
    const result = streamText({
      model: wrapLanguageModel({ model: inner, middleware }),
      prompt: 'hi',
      maxRetries: 0,
    });
    expect(await result.text).toBe('Done.');
    expect(settledOf(events)).toEqual([
      { tokens: 127, inputTokens: 20, outputTokens: 7, cacheReadTokens: 100 },
    ]);
    expect(events.filter((e) => e.type === 'released')).toHaveLength(1);
    expect(middleware.stats).toMatchObject({
      succeeded: 1,
      usage: { promptTokens: 120, completionTokens: 7 },
    });
    provider.dispose();
  });
});
