import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { silentLogger } from '@tollgate/core';
import { type Simulator, startSimulator } from '@tollgate/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from './Gateway.js';
import { type Harness, startHarness, testKey } from './test-support/harness.js';

const WINDOW_MS = 500; // "a minute", time-compressed 120x
const PER_WINDOW = 6; // the provider's tight request quota, per API
const CLIENTS = 20;
const limits = {
  maxRequestsPerMinute: PER_WINDOW,
  algorithm: 'sliding-window' as const,
  timeScale: 60_000 / WINDOW_MS,
  windowPaddingMs: 5,
  resourceWaitTimeoutSeconds: 60,
};

describe('Anthropic and Gemini SDKs against the gateway, forwarded to the simulator', () => {
  let h: Harness;
  let anthropicSim: Simulator;
  let geminiSim: Simulator;
  const key = testKey('writer');
  beforeAll(async () => {
    const simOptions = (apiKey: string) => ({
      apiKeys: [apiKey],
      quota: { requestsPerWindow: PER_WINDOW, windowMs: WINDOW_MS },
      latency: { ttftMs: 2, perTokenMs: 0.05, jitter: 0 },
    });
    anthropicSim = await startSimulator(simOptions('sk-ant-upstream'));
    geminiSim = await startSimulator(simOptions('gm-upstream'));
    h = await startHarness({
      config: {
        anthropic: { baseUrl: anthropicSim.url, apiKey: 'sk-ant-upstream', limits },
        gemini: { baseUrl: geminiSim.url, apiKey: 'gm-upstream', limits },
      },
      keys: [
        { name: 'writer', permissions: ['read', 'write'], limits: { maxRequestsPerMinute: 10_000 } },
        { name: 'tiny', permissions: ['write'], limits: { maxRequestsPerMinute: 1 } },
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await anthropicSim?.close();
    await geminiSim?.close();
  });

  const anthropic = (apiKey = key) => new Anthropic({ apiKey, baseURL: h.gateway.url, maxRetries: 0 });
  const gemini = (apiKey = key) =>
    new GoogleGenAI({ apiKey, httpOptions: { baseUrl: h.gateway.url, retryOptions: { attempts: 1 } } });

  it(`Anthropic: ${CLIENTS} concurrent clients on a quota of ${PER_WINDOW} a window: all answered, zero upstream 429s`, async () => {
    const replies = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        anthropic().messages.create({
          model: 'claude-sim',
          max_tokens: 16,
          system: 'Answer briefly.',
          messages: [{ role: 'user', content: `Say hello to client ${i}` }],
        }),
      ),
    );
    for (const r of replies) {
      expect(r.content[0]?.type).toBe('text');
      expect(r.usage.input_tokens).toBeGreaterThan(0);
    }
    const stats = anthropicSim.stats();
    expect(stats.rateLimited).toBe(0);
    expect(stats.admitted).toBe(CLIENTS);
    const provider = h.gateway.services.governance.governors().find((g) => g.name === 'provider:anthropic');
    expect(provider?.checkResourceAvailability().limits.requestsPerMinute?.limit).toBe(PER_WINDOW);
  }, 60_000);

  it('Anthropic: a stream passes through with its events, and the key never reaches the provider', async () => {
    const stream = anthropic().messages.stream({
      model: 'claude-sim',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'Stream a few words' }],
    });
    let text = '';
    stream.on('text', (t) => {
      text += t;
    });
    const final = await stream.finalMessage();
    expect(text.length).toBeGreaterThan(0);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    expect(final.stop_reason).toBeTruthy();
  }, 60_000);

  it('Anthropic: over its own limit a key gets 429 from the gateway, never forwarded', async () => {
    const before = anthropicSim.stats().requests;
    const tiny = anthropic(testKey('tiny'));
    const body = { model: 'claude-sim', max_tokens: 8, messages: [{ role: 'user' as const, content: 'hi' }] };
    await tiny.messages.create(body);
    const error = await tiny.messages.create(body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as InstanceType<typeof Anthropic.RateLimitError>).headers.get('retry-after-ms')).toMatch(
      /^\d+$/,
    );
    expect(anthropicSim.stats().requests - before).toBe(1);
    const wrong = await anthropic('tg-not-a-key-at-all-000')
      .messages.create(body)
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
  }, 60_000);

  it(`Gemini: ${CLIENTS} concurrent clients on a quota of ${PER_WINDOW} a window: all answered, zero upstream 429s`, async () => {
    const replies = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        gemini().models.generateContent({
          model: 'gemini-sim',
          contents: `Say hello to client ${i}`,
          config: { maxOutputTokens: 16, systemInstruction: 'Answer briefly.' },
        }),
      ),
    );
    for (const r of replies) {
      expect(r.text?.length).toBeGreaterThan(0);
      expect(r.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    }
    const stats = geminiSim.stats();
    expect(stats.rateLimited).toBe(0);
    expect(stats.admitted).toBe(CLIENTS);
  }, 60_000);

  it('Gemini: a stream passes through chunk by chunk, with the usage at the end', async () => {
    const stream = await gemini().models.generateContentStream({
      model: 'gemini-sim',
      contents: 'Stream a few words',
      config: { maxOutputTokens: 32 },
    });
    let text = '';
    let chunks = 0;
    let usage: number | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.text ?? '';
      usage = chunk.usageMetadata?.candidatesTokenCount ?? usage;
    }
    expect(chunks).toBeGreaterThan(1);
    expect(text.length).toBeGreaterThan(0);
    expect(usage).toBeGreaterThan(0);
  }, 60_000);

  it('refuses bodies that are not the API’s, naming the field', async () => {
    const res = await fetch(`${h.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sim', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('max_tokens');
    const bad = await fetch(`${h.gateway.url}/v1beta/models/gemini-sim:countTokens`, {
      method: 'POST',
      headers: { 'x-goog-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
    expect(bad.status).toBe(404);
  });
});

describe('a gateway with nothing configured', () => {
  it('serves Anthropic and Gemini from its embedded simulator, with a key per API upstream', async () => {
    const gateway = await startGateway(
      { port: 0, docs: false, adminKey: testKey('admin'), keys: [{ name: 'w', key: testKey('w') }] },
      { logger: silentLogger },
    );
    try {
      const claude = new Anthropic({ apiKey: testKey('w'), baseURL: gateway.url, maxRetries: 0 });
      const message = await claude.messages.create({
        model: 'claude-sim',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(message.usage.output_tokens).toBeGreaterThan(0);
      const ai = new GoogleGenAI({ apiKey: testKey('w'), httpOptions: { baseUrl: gateway.url } });
      const reply = await ai.models.generateContent({ model: 'gemini-sim', contents: 'hi' });
      expect(reply.text?.length).toBeGreaterThan(0);
      const names = gateway.services.governance.governors().map((g) => g.name);
      expect(names).toEqual(expect.arrayContaining(['provider', 'provider:anthropic', 'provider:gemini']));
    } finally {
      await gateway.close();
    }
  }, 60_000);
});
