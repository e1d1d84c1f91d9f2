import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AbortError,
  HeuristicTokenCounter,
  InvalidArgumentError,
  type LogFields,
  ManualClock,
} from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { startSimulator } from '@tollgate/simulator';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MalformedResponseError,
  ProviderConnectionError,
  ProviderRateLimitError,
  QuotaExhaustedError,
} from '../errors.js';
import { GovernedClient } from '../governed/GovernedClient.js';
import { OpenAIClient } from './OpenAIClient.js';

const KEY = 'sk-test-hostile';
const counter = new HeuristicTokenCounter();
const ask = { messages: [{ role: 'user' as const, content: 'q' }], maxTokens: 50 };
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A provider on 127.0.0.1 answering every request with `status`, `body` and `headers`. */
async function fakeProvider(status: number, body: unknown, headers: Record<string, string> = {}) {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { baseURL, requests: () => requests };
}

const reply = (usage: unknown) => ({
  id: 'x',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage,
});

/** An agent and a provider governor on a manual clock, and a governed OpenAIClient at `baseURL`. */
function governed(baseURL: string) {
  const clock = new ManualClock();
  const agent = new ResourceGovernor({ maxTokensPerMinute: 1e6 }, { clock, name: 'agent' });
  const provider = new ResourceGovernor(
    { maxRequestsPerMinute: 100, maxTokensPerMinute: 1e6, resourceWaitTimeoutSeconds: 3 },
    { clock, name: 'provider' },
  );
  const warnings: Array<{ message: string; fields?: LogFields }> = [];
  const logger = {
    debug() {},
    info() {},
    error() {},
    warn: (message: string, fields?: LogFields) => warnings.push({ message, fields }),
  };
  const client = new GovernedClient(new OpenAIClient({ model: 'm', apiKey: KEY, baseURL }), {
    governors: [agent, provider],
    tokenCounter: counter,
    retry: { maxAttempts: 2, baseDelayMs: 10 },
    clock,
    logger,
  });
  return { clock, agent, provider, client, warnings };
}

describe('OpenAIClient options', () => {
  it('rejects options out of range, naming each', () => {
    expect(() => new OpenAIClient({ model: '', timeoutMs: -1 })).toThrow(
      /OpenAIClient\.model.*OpenAIClient\.timeoutMs/s,
    );
    expect(() => new OpenAIClient({ model: 'm', baseURL: 'localhost:8080' })).toThrow(/baseURL/);
    expect(() => new OpenAIClient({ model: 'm', apiKey: 'k', quotaExhaustion: 'yes' as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new OpenAIClient({} as never)).toThrow(/model/);
  });
});

describe('a governed OpenAIClient against a hostile provider over HTTP', () => {
  it.each([
    ['strings', { prompt_tokens: 10, completion_tokens: 'five', total_tokens: 'fifteen' }],
    ['negatives', { prompt_tokens: -100, completion_tokens: 5, total_tokens: -95 }],
  ])('usage %s: MalformedResponseError, not retried, and the reservation stands', async (_, usage) => {
    const p = await fakeProvider(200, reply(usage));
    const { agent, client } = governed(p.baseURL);
    const estimate = client.estimateTokens(ask);
    const error = await client.chat(ask).catch((e: unknown) => e);
    expect(MalformedResponseError.is(error)).toBe(true);
    expect(p.requests()).toBe(1);
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(1e6 - estimate);
  });

  it.each([
    [
      '1e7 completion tokens for max_tokens 50',
      { prompt_tokens: 3, completion_tokens: 1e7, total_tokens: 1e7 + 3 },
    ],
    ['1e308 completion tokens', { prompt_tokens: 3, completion_tokens: 1e308, total_tokens: 1e308 }],
    ['1.5 completion tokens', { prompt_tokens: 3, completion_tokens: 1.5, total_tokens: 4.5 }],
  ])('usage with %s: MalformedResponseError, and the reservation stands', async (_, usage) => {
    const p = await fakeProvider(200, reply(usage));
    const { agent, provider, client } = governed(p.baseURL);
    const estimate = client.estimateTokens(ask);
    const error = await client.chat(ask).catch((e: unknown) => e);
    expect(MalformedResponseError.is(error)).toBe(true);
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(1e6 - estimate);
    expect(provider.checkResourceAvailability().remaining.tokensPerMinute).toBe(1e6 - estimate);
  });

  it('total_tokens 400000 with prompt 3 and completion 1 is charged 4, logged', async () => {
    const p = await fakeProvider(
      200,
      reply({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 400_000 }),
    );
    const { agent, client, warnings } = governed(p.baseURL);
    const response = await client.chat(ask);
    expect(response.usage.totalTokens).toBe(4);
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(1e6 - 4);
    expect(warnings.some((w) => w.fields?.totalTokens === 400_000)).toBe(true);
  });

  it.each([
    ['retry-after-ms: 1e12', { 'retry-after-ms': '1000000000000' }],
    ['retry-after in 2099', { 'retry-after': 'Wed, 21 Oct 2099 07:28:00 GMT' }],
    ['retry-after: 1e308', { 'retry-after': '1e308' }],
  ])('%s: the error goes to the caller, the cooldown is capped at 15 minutes, logged', async (_, headers) => {
    const p = await fakeProvider(429, { error: { message: 'slow down', type: 'requests' } }, headers);
    const { clock, provider, client, warnings } = governed(p.baseURL);
    const error = await client.chat(ask).catch((e: unknown) => e);
    expect(ProviderRateLimitError.is(error)).toBe(true);
    expect(p.requests()).toBe(1);
    expect(provider.checkResourceAvailability().cooldownUntil).toBe(clock.now() + 900_000);
    expect(warnings.some((w) => w.message.includes('maxRetryAfterMs'))).toBe(true);
  });

  it('retry-after: -5 is ignored (logged) and the call is retried with backoff', async () => {
    const p = await fakeProvider(
      429,
      { error: { message: 'slow down', type: 'requests' } },
      { 'retry-after': '-5' },
    );
    const { clock, client, warnings } = governed(p.baseURL);
    const pending = client.chat(ask).catch((e: unknown) => e);
    for (let i = 0; i < 200 && p.requests() < 2; i++) {
      await clock.advanceAsync(100);
      await new Promise((r) => setTimeout(r, 5));
    }
    const error = await pending;
    expect(ProviderRateLimitError.is(error)).toBe(true);
    expect(p.requests()).toBe(2);
    expect(warnings.some((w) => w.message.includes('retry-after') && w.fields?.retryAfterMs === -5000)).toBe(
      true,
    );
  });

  it('x-ratelimit-remaining-tokens: -1e15 is ignored (logged): the next caller is admitted at once', async () => {
    const p = await fakeProvider(200, reply({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }), {
      'x-ratelimit-remaining-tokens': '-1000000000000000',
    });
    const { provider, client, warnings } = governed(p.baseURL);
    await client.chat(ask);
    expect(provider.remaining('tokens')).toBeGreaterThan(0);
    expect(provider.checkResourceAvailability({ requests: 1, tokens: 10 }).available).toBe(true);
    expect(warnings.some((w) => w.fields?.remaining === -1e15)).toBe(true);
  });
});

/** A provider on 127.0.0.1 streaming `chunks` as server-sent events. */
async function sseProvider(chunks: readonly unknown[]) {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const chunk of chunks) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

describe('malformed tool calls in a 2xx reply', () => {
  const calls = {
    'a null name and numeric arguments': {
      id: 'c1',
      type: 'function',
      function: { name: null, arguments: 7 },
    },
    'object arguments': { id: 'c1', type: 'function', function: { name: 'look', arguments: { q: 'x' } } },
    'a numeric id': { id: 1, type: 'function', function: { name: 'look', arguments: '{}' } },
    'no function': { id: 'c1', type: 'function' },
  };

  it.each(Object.entries(calls))(
    'whole: a tool call with %s is a MalformedResponseError',
    async (_, call) => {
      const p = await fakeProvider(200, {
        ...reply({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }),
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: null, tool_calls: [call] },
            finish_reason: 'tool_calls',
          },
        ],
      });
      const client = new OpenAIClient({ model: 'm', apiKey: KEY, baseURL: p.baseURL });
      const error = await client.chat(ask).catch((e: unknown) => e);
      expect(MalformedResponseError.is(error)).toBe(true);
    },
  );

  it.each([
    ['a numeric name', { index: 0, id: 'c1', type: 'function', function: { name: 7, arguments: '{}' } }],
    ['numeric arguments', { index: 0, id: 'c1', type: 'function', function: { name: 'look', arguments: 7 } }],
    ['object arguments', { index: 0, id: 'c1', function: { name: 'look', arguments: { q: 'x' } } }],
    ['a numeric id', { index: 0, id: 1, type: 'function', function: { name: 'look', arguments: '{}' } }],
  ])('streamed: a tool-call delta with %s is a MalformedResponseError', async (_, delta) => {
    const baseURL = await sseProvider([
      {
        id: 'x',
        object: 'chat.completion.chunk',
        created: 0,
        model: 'm',
        choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [delta] } }],
      },
      {
        id: 'x',
        object: 'chat.completion.chunk',
        created: 0,
        model: 'm',
        choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }],
      },
    ]);
    const client = new OpenAIClient({ model: 'm', apiKey: KEY, baseURL });
    const error = await lastValueFrom(client.stream(ask).pipe(toArray())).catch((e: unknown) => e);
    expect(MalformedResponseError.is(error)).toBe(true);
  });
});

/** A provider on 127.0.0.1 that sends headers and `first`, then `rest` after `pauseMs`. */
async function slowProvider(contentType: string, first: string, rest: string, pauseMs: number) {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': contentType });
      res.write(first);
      const timer = setTimeout(() => res.end(rest), pauseMs);
      res.on('close', () => clearTimeout(timer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

describe('timeoutMs covers the whole reply, not only its headers', () => {
  it('a reply body that stalls past timeoutMs is a retryable ProviderConnectionError, in time', async () => {
    const body = JSON.stringify(reply({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }));
    const baseURL = await slowProvider('application/json', body.slice(0, 20), body.slice(20), 900);
    const client = new OpenAIClient({ model: 'm', apiKey: KEY, baseURL, timeoutMs: 200 });
    const started = performance.now();
    const error = await client.chat(ask).catch((e: unknown) => e);
    expect(ProviderConnectionError.is(error)).toBe(true);
    expect((error as ProviderConnectionError).isRetryable).toBe(true);
    expect((error as Error).message).toMatch(/timed out/i);
    expect(performance.now() - started).toBeLessThan(800);
  });

  it('a stream idle past timeoutMs between chunks is a retryable ProviderConnectionError', async () => {
    const chunk = (content: string) =>
      `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content } }] })}\n\n`;
    const baseURL = await slowProvider('text/event-stream', chunk('a'), `${chunk('b')}data: [DONE]\n\n`, 900);
    const client = new OpenAIClient({ model: 'm', apiKey: KEY, baseURL, timeoutMs: 200 });
    const started = performance.now();
    const error = await lastValueFrom(client.stream(ask).pipe(toArray())).catch((e: unknown) => e);
    expect(ProviderConnectionError.is(error)).toBe(true);
    expect((error as ProviderConnectionError).isRetryable).toBe(true);
    expect(performance.now() - started).toBeLessThan(800);
  });

  it('a caller abort during a slow body is still an AbortError', async () => {
    const body = JSON.stringify(reply({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }));
    const baseURL = await slowProvider('application/json', body.slice(0, 20), body.slice(20), 900);
    const client = new OpenAIClient({ model: 'm', apiKey: KEY, baseURL, timeoutMs: 5_000 });
    const error = await client.chat(ask, { signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect(AbortError.is(error)).toBe(true);
  });
});

describe('quota exhausted over HTTP', () => {
  it("the simulator's insufficient_quota 429 ends the call at once with QuotaExhaustedError: no retry, no cooldown", async () => {
    const sim = await startSimulator({
      quota: { requestBudget: 1 },
      latency: { ttftMs: 1, perTokenMs: 0, jitter: 0 },
      tokenCounter: counter,
    });
    closers.push(() => sim.close());
    const { provider, client } = governed(sim.baseURL);
    await client.chat(ask);
    const error = await client.chat(ask).catch((e: unknown) => e);
    expect(QuotaExhaustedError.is(error)).toBe(true);
    expect(error).toMatchObject({ status: 429, isRetryable: false, provider: 'openai' });
    expect((error as Error).message).toMatch(/exceeded your current quota/);
    expect(sim.stats()).toMatchObject({ admitted: 1, quotaExhausted: 1, requests: 2 });
    expect(provider.checkResourceAvailability().cooldownUntil).toBeNull();
  });

  it("Gemini's per-day RESOURCE_EXHAUSTED is a QuotaExhaustedError with its reset time", async () => {
    const p = await fakeProvider(429, {
      error: {
        code: 429,
        message: 'You exceeded your current quota.',
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3600s' },
        ],
      },
    });
    const { client } = governed(p.baseURL);
    const before = Date.now();
    const error = await client.chat(ask).catch((e: unknown) => e);
    expect(QuotaExhaustedError.is(error)).toBe(true);
    expect((error as QuotaExhaustedError).resetsAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(p.requests()).toBe(1);
  });
});
