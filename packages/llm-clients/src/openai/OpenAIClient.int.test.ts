import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AbortError, TiktokenCounter, TollgateError } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MalformedResponseError, ProviderError } from '../errors.js';
import { GovernedClient } from '../governed/GovernedClient.js';
import type { ClientEvent } from '../governed/options.js';
import { QUICK_LATENCY, user, useSimulators } from '../test-support/simulatorClients.js';
import { OpenAIClient } from './OpenAIClient.js';

const KEY = 'sk-secret-do-not-log-1234';
// One warmed counter for the simulator and the clients: loading tiktoken's WASM takes a
// few hundred ms once, which is not scheduling and must not count in a makespan.
const tokenCounter = new TiktokenCounter();
beforeAll(() => {
  tokenCounter.countText('warm up');
});
const sim = useSimulators(KEY, { tokenCounter, latency: { ...QUICK_LATENCY, jitter: 0.5 } });

describe('OpenAIClient against the simulator', () => {
  it('chats, streams and calls tools over HTTP', async () => {
    const s = await sim();
    const client = new OpenAIClient({ model: 'sim-small', baseURL: s.baseURL, apiKey: KEY });
    const reply = await client.chat(user('hello'));
    expect(reply.content).toMatch(/\w/);
    expect(reply.usage.totalTokens).toBe(reply.usage.promptTokens + reply.usage.completionTokens);
    expect(reply.requestId).toMatch(/^req_sim_/);
    const chunks = await lastValueFrom(client.stream({ ...user('stream'), maxTokens: 300 }).pipe(toArray()));
    expect(chunks.map((c) => c.content ?? '').join('')).toMatch(/\w/);
    expect(chunks.at(-1)!.usage!.completionTokens).toBeGreaterThan(0);
    const tools = [
      {
        name: 'lookup',
        parameters: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
      },
    ];
    const call = await client.chat({ ...user('use the tool'), tools });
    expect(call.finishReason).toBe('tool_calls');
    expect(call.toolCalls[0]!.name).toBe('lookup');
    expect(typeof JSON.parse(call.toolCalls[0]!.arguments).id).toBe('number');
  });

  it("gives the same reply whole or streamed and assembled (chatTransport: 'stream')", async () => {
    const s = await sim();
    const inner = new OpenAIClient({ model: 'sim-small', baseURL: s.baseURL, apiKey: KEY });
    const governed = (chatTransport: 'whole' | 'stream') =>
      new GovernedClient(inner, {
        governors: [new ResourceGovernor({ maxRequestsPerMinute: 100 })],
        tokenCounter,
        chatTransport,
      });
    const tools = [
      {
        name: 'lookup',
        parameters: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
      },
    ];
    for (const request of [user('same question'), { ...user('use the tool'), tools }]) {
      const whole = await governed('whole').chat(request);
      const streamed = await governed('stream').chat(request);
      // The simulator is deterministic per request: only ids differ.
      const comparable = (r: typeof whole) => ({
        model: r.model,
        content: r.content,
        finishReason: r.finishReason,
        usage: r.usage,
        toolCalls: r.toolCalls.map(({ name, arguments: args }) => ({ name, args })),
      });
      expect(comparable(streamed)).toEqual(comparable(whole));
      expect(streamed.id).toMatch(/^chatcmpl-/);
      expect(streamed.requestId).toMatch(/^req_sim_/);
      for (const call of streamed.toolCalls) expect(call.id).toMatch(/^call_/);
    }
  });

  it('maps failures to typed errors that never contain the API key', async () => {
    const s = await sim();
    const wrongKey = new OpenAIClient({
      model: 'sim-small',
      baseURL: s.baseURL,
      apiKey: 'sk-wrong-key-5678',
    });
    const auth = await wrongKey.chat(user('x')).catch((e: unknown) => e);
    expect(ProviderError.is(auth)).toBe(true);
    expect(auth).toMatchObject({ status: 401, isRetryable: false, provider: 'openai' });
    expect(JSON.stringify({ message: (auth as Error).message, auth })).not.toContain('sk-wrong-key-5678');

    const down = new OpenAIClient({ model: 'sim-small', baseURL: 'http://127.0.0.1:9/v1', apiKey: KEY });
    const refused = await down.chat(user('x')).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'PROVIDER_CONNECTION', isRetryable: true });

    const controller = new AbortController();
    const slow = await sim({ latency: { ttftMs: 5_000, perTokenMs: 0, jitter: 0 } });
    const client = new OpenAIClient({ model: 'sim-small', baseURL: slow.baseURL, apiKey: KEY });
    const pending = client.chat(user('x'), { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toSatisfy(AbortError.is);
  });

  it('rejects a malformed 2xx reply with MalformedResponseError', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const client = new OpenAIClient({ model: 'm', baseURL: `http://127.0.0.1:${port}/v1`, apiKey: KEY });
      await expect(client.chat(user('x'))).rejects.toSatisfy(MalformedResponseError.is);
    } finally {
      server.close();
    }
  });
});

/**
 * 50 callers x 3 calls through one provider governor, concurrently. Measures, besides the
 * makespan, what else paces it on this machine: how long each call held its admission
 * (provider `acquired` to `settled`, in order of admission) and how late this process's
 * timers fired meanwhile (the event loop's delay, p99).
 */
async function fleet(
  client: GovernedClient,
  provider: ResourceGovernor,
  callers: number,
  calls: number,
  prompt: (i: number) => string,
) {
  const admittedAt = new Map<number, number>();
  const heldMs = new Map<number, number>();
  const events = provider.events$.subscribe((e) => {
    if (e.type === 'acquired') admittedAt.set(e.leaseId, e.at);
    if (e.type === 'settled') heldMs.set(e.leaseId, e.at - admittedAt.get(e.leaseId)!);
  });
  const resolutionMs = 1;
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, i) => {
      for (let c = 0; c < calls; c++)
        await client.chat({ messages: [{ role: 'user', content: prompt(i) }], maxTokens: 40 });
    }),
  );
  const makespanMs = performance.now() - started;
  delay.disable();
  events.unsubscribe();
  return {
    makespanMs,
    heldMs: [...admittedAt.keys()].map((id) => heldMs.get(id)!),
    lagMs: Math.max(0, delay.percentile(99) / 1e6 - resolutionMs),
  };
}

/**
 * The longest a fleet may take on this machine. The quota allows no less than `waits` full
 * windows. Its calls count in the window until their reply, so each window's worth of
 * admissions (`perWindow` calls, in order) frees the next one at most its longest call
 * later; and each wait ends on a timer, late by the event loop's delay. 10% more is the
 * scheduling goal on an idle machine, where both are a few ms.
 */
function makespanBound(
  waits: number,
  windowMs: number,
  perWindow: number,
  run: { heldMs: number[]; lagMs: number },
): number {
  let calls = 0;
  for (let i = 0; i < run.heldMs.length; i += perWindow)
    calls += Math.max(...run.heldMs.slice(i, i + perWindow));
  return waits * windowMs * 1.1 + waits * run.lagMs + calls;
}

describe('a fleet sharing one strict quota', () => {
  const windowMs = 300; // "a minute", time-compressed 200x
  const padding = 1; // calls are held until their reply, so only clock granularity is left to absorb

  it('50 callers x 3 calls on 7 requests per window: zero 429s, all succeed, makespan within 10% of the minimum plus the call and timer delays measured', async () => {
    const s = await sim({ quota: { requestsPerWindow: 7, windowMs } });
    const provider = new ResourceGovernor(
      {
        maxRequestsPerMinute: 7,
        algorithm: 'sliding-window',
        timeScale: 60_000 / windowMs,
        windowPaddingMs: padding,
        resourceWaitTimeoutSeconds: 120,
      },
      { name: 'provider' },
    );
    const client = new GovernedClient(
      new OpenAIClient({ model: 'sim-small', baseURL: s.baseURL, apiKey: KEY }),
      {
        governors: [provider],
        tokenCounter,
      },
    );
    const run = await fleet(client, provider, 50, 3, (i) => `question ${i}`);
    const makespan = run.makespanMs;
    const stats = s.stats();
    const waits = Math.ceil(150 / 7) - 1;
    const minimum = waits * windowMs;
    expect(stats.rateLimited).toBe(0);
    expect(stats.admitted).toBe(150);
    expect(stats.maxRequestsInWindow).toBe(7);
    expect(client.stats).toMatchObject({ succeeded: 150, failed: 0, rateLimited: 0 });
    expect(makespan).toBeGreaterThanOrEqual(minimum);
    const bound = makespanBound(waits, windowMs, 7, run);
    expect(makespan).toBeLessThanOrEqual(bound);
    console.log(
      `requests quota: makespan ${makespan.toFixed(0)} ms, minimum ${minimum} ms (+${((makespan / minimum - 1) * 100).toFixed(1)}%), bound ${bound.toFixed(0)} ms`,
    );
  });

  it('the same on a token quota: zero 429s with tokens charged as prompt + max_tokens', async () => {
    const prompt = 'the same question for everyone';
    const perCall =
      tokenCounter.countMessages([{ role: 'user', content: prompt }], { model: 'sim-small' }) + 40;
    const limit = perCall * 7;
    const quota = await sim({ quota: { tokensPerWindow: limit, windowMs } });
    const provider = new ResourceGovernor(
      {
        maxTokensPerMinute: limit,
        algorithm: 'sliding-window',
        timeScale: 60_000 / windowMs,
        windowPaddingMs: padding,
        resourceWaitTimeoutSeconds: 120,
      },
      { name: 'provider' },
    );
    const client = new GovernedClient(
      new OpenAIClient({ model: 'sim-small', baseURL: quota.baseURL, apiKey: KEY }),
      {
        governors: [provider],
        tokenCounter,
      },
    );
    const run = await fleet(client, provider, 50, 3, () => prompt);
    const makespan = run.makespanMs;
    const stats = quota.stats();
    const waits = Math.ceil(150 / 7) - 1;
    const minimum = waits * windowMs;
    expect(stats.rateLimited).toBe(0);
    expect(stats.admitted).toBe(150);
    expect(stats.maxTokensInWindow).toBe(limit);
    const bound = makespanBound(waits, windowMs, 7, run);
    expect(makespan).toBeLessThanOrEqual(bound);
    console.log(
      `tokens quota: makespan ${makespan.toFixed(0)} ms, minimum ${minimum} ms (+${((makespan / minimum - 1) * 100).toFixed(1)}%), bound ${bound.toFixed(0)} ms`,
    );
  });
});

describe('fault matrix', () => {
  it('under 429 storms, 5xx, resets, slow replies, timeouts and aborts every call succeeds or fails typed, and nothing stays reserved', async () => {
    // Timeouts must come from the slow replies, not from this machine's load: the client's
    // timeout sits well above the slowest of 10 concurrent plain calls measured here (about
    // 10 ms on an idle machine, so 250 ms there), and slow replies take longer still.
    const plain = await sim();
    const probe = new OpenAIClient({ model: 'sim-small', baseURL: plain.baseURL, apiKey: KEY });
    const durations = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const started = performance.now();
        await probe.chat(user('how long'));
        return performance.now() - started;
      }),
    );
    const timeoutMs = Math.max(250, Math.ceil(4 * Math.max(...durations)));
    const s = await sim({
      quota: { requestsPerWindow: 20, windowMs: 200 },
      faults: {
        foreign429: 0.15,
        foreign429RetryAfterMs: 30,
        error500: 0.1,
        error503: 0.05,
        reset: 0.05,
        slow: 0.05,
        slowMs: timeoutMs + 150,
      },
      seed: 7,
    });
    const provider = new ResourceGovernor(
      {
        maxConcurrentTasks: 10,
        maxRequestsPerMinute: 20,
        algorithm: 'sliding-window',
        timeScale: 300,
        windowPaddingMs: 5,
        resourceWaitTimeoutSeconds: 30,
      },
      { name: 'provider' },
    );
    const client = new GovernedClient(
      new OpenAIClient({ model: 'sim-small', baseURL: s.baseURL, apiKey: KEY, timeoutMs }),
      {
        governors: [provider],
        retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 100 },
        circuitBreaker: false,
      },
    );
    const events: ClientEvent[] = [];
    client.events$.subscribe((e) => events.push(e));
    const outcomes = await Promise.all(
      Array.from({ length: 80 }, async (_, i) => {
        const controller = new AbortController();
        if (i % 10 === 3) setTimeout(() => controller.abort(new Error('caller gave up')), 5 + i);
        // Each call also holds a task slot, as an agent's task would.
        return provider
          .runTask((signal) => client.chat(user(`q${i}`), { signal }), { signal: controller.signal })
          .then(
            () => 'ok' as const,
            (error: unknown) => {
              expect(TollgateError.is(error)).toBe(true);
              return (error as TollgateError).code;
            },
          );
      }),
    );
    // A call fails only when its caller gave up or after its last attempt; retries carry calls
    // through the faults.
    const exhausted = events.filter(
      (e) => e.type === 'failed' && e.attempts === 4 && e.code !== 'ABORTED',
    ).length;
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'ABORTED')).toHaveLength(exhausted);
    expect(events.some((e) => e.type === 'call' && e.attempt > 1)).toBe(true);
    expect(outcomes.filter((o) => o === 'ABORTED').length).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'rate-limited')).toBe(true);
    expect(events.some((e) => e.type === 'retry' && e.status === 500)).toBe(true);
    expect(s.stats().faults.reset).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain(KEY);
    // Nothing leaked: no task slot held, nobody queued, and once a window has passed all capacity is back.
    await new Promise((r) => setTimeout(r, 250));
    const status = provider.checkResourceAvailability();
    expect(status).toMatchObject({ activeTasks: 0, queued: 0, available: true });
    expect(status.remaining.requestsPerMinute).toBe(20);
    expect(s.stats().rateLimited).toBe(0); // every 429 came from the injected storms, none from our quota
  }, 90_000); // timeouts and slow replies scale with the machine's measured speed
});
