import { performance } from 'node:perf_hooks';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { tollgateMiddleware } from '@tollgate/ai-sdk';
import { HeuristicTokenCounter, TiktokenCounter } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { anthropicTokenCounter, GovernedClient, OpenAIClient } from '@tollgate/llm-clients';
import { startSimulator } from '@tollgate/simulator';
import { generateText, wrapLanguageModel } from 'ai';
import OpenAI from 'openai';
import pLimit from 'p-limit';
import {
  type BenchOptions,
  fmt,
  markdown,
  repeat,
  type Sample,
  type SectionResult,
  sample,
  sleep,
  table,
} from './common.js';
import { type AnthropicSetup, anthropicApproaches, anthropicOnce } from './utilisationAnthropic.js';

interface Setup {
  readonly calls: number;
  readonly rpm: number;
  readonly tpm: number;
  readonly windowMs: number;
  readonly maxTokens: number;
}

interface Outcome {
  readonly makespanMs: number;
  /** From the provider's first admission to its last. */
  readonly admissionSpanMs: number;
  readonly rateLimited: number;
  readonly failed: number;
  readonly chargePerRequest: number;
}

type Approach = (base: string, setup: Setup) => Promise<{ failed: number }>;

const messages = (i: number) => [{ role: 'user' as const, content: `Summarise item ${i} in a line.` }];

/** Tollgate's governed client on one provider governor, whole or streamed replies. */
const tollgate =
  (chatTransport: 'whole' | 'stream'): Approach =>
  async (base, s) => {
    const governor = new ResourceGovernor({
      maxRequestsPerMinute: s.rpm,
      maxTokensPerMinute: s.tpm,
      algorithm: 'sliding-window',
      timeScale: 60_000 / s.windowMs,
      resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
    });
    const client = new GovernedClient(
      new OpenAIClient({ model: 'gpt-4o-mini', baseURL: base, apiKey: 'sk-bench' }),
      {
        governors: [governor],
        tokenCounter: new HeuristicTokenCounter(),
        chatTransport,
      },
    );
    const results = await Promise.allSettled(
      Array.from({ length: s.calls }, (_, i) =>
        client.chat({ messages: messages(i), maxTokens: s.maxTokens }),
      ),
    );
    governor.dispose();
    return { failed: results.filter((r) => r.status === 'rejected').length };
  };

/** The AI SDK's OpenAI-compatible chat model on the simulator. */
const aiSdkModel = (base: string) =>
  createOpenAICompatible({ name: 'bench', baseURL: base, apiKey: 'sk-bench', includeUsage: true })(
    'gpt-4o-mini',
  );

/** AI SDK `generateText` calls, all at once, through `model`; `maxRetries` as given (the SDK's default when unset). */
const aiSdkCalls = async (
  model: Parameters<typeof generateText>[0]['model'],
  s: Setup,
  maxRetries?: number,
): Promise<{ failed: number }> => {
  const results = await Promise.allSettled(
    Array.from({ length: s.calls }, (_, i) =>
      generateText({
        model,
        messages: messages(i),
        maxOutputTokens: s.maxTokens,
        ...(maxRetries === undefined ? {} : { maxRetries }),
      }),
    ),
  );
  return { failed: results.filter((r) => r.status === 'rejected').length };
};

const approaches: Record<string, Approach> = {
  tollgate: tollgate('whole'),
  'tollgate, streamed replies': tollgate('stream'),
  'AI SDK + tollgateMiddleware': async (base, s) => {
    const governor = new ResourceGovernor({
      maxRequestsPerMinute: s.rpm,
      maxTokensPerMinute: s.tpm,
      algorithm: 'sliding-window',
      timeScale: 60_000 / s.windowMs,
      resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
    });
    const middleware = tollgateMiddleware({
      governors: [governor],
      tokenCounter: new HeuristicTokenCounter(),
    });
    // maxRetries: 0, as docs/ai-sdk.md recommends: the middleware retries, in the governor's queue.
    const outcome = await aiSdkCalls(wrapLanguageModel({ model: aiSdkModel(base), middleware }), s, 0);
    governor.dispose();
    return outcome;
  },
  'AI SDK alone (maxRetries default)': (base, s) => aiSdkCalls(aiSdkModel(base), s),
  'openai retries only': async (base, s) => {
    const client = new OpenAI({ baseURL: base, apiKey: 'sk-bench', maxRetries: 50 });
    const results = await Promise.allSettled(
      Array.from({ length: s.calls }, (_, i) =>
        client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: messages(i),
          max_tokens: s.maxTokens,
        }),
      ),
    );
    return { failed: results.filter((r) => r.status === 'rejected').length };
  },
  'p-limit + openai retries': async (base, s) => {
    const client = new OpenAI({ baseURL: base, apiKey: 'sk-bench', maxRetries: 50 });
    const limit = pLimit(s.rpm);
    const results = await Promise.allSettled(
      Array.from({ length: s.calls }, (_, i) =>
        limit(() =>
          client.chat.completions.create({
            model: 'gpt-4o-mini',
            messages: messages(i),
            max_tokens: s.maxTokens,
          }),
        ),
      ),
    );
    return { failed: results.filter((r) => r.status === 'rejected').length };
  },
  'fixed window + openai retries': async (base, s) => {
    const client = new OpenAI({ baseURL: base, apiKey: 'sk-bench', maxRetries: 50 });
    // The classic counter: at most rpm per window, the count reset at each window boundary.
    let windowStart = performance.now();
    let used = 0;
    const admit = async (): Promise<void> => {
      for (;;) {
        const now = performance.now();
        if (now - windowStart >= s.windowMs) {
          windowStart += Math.floor((now - windowStart) / s.windowMs) * s.windowMs;
          used = 0;
        }
        if (used < s.rpm) {
          used++;
          return;
        }
        await sleep(windowStart + s.windowMs - now);
      }
    };
    const results = await Promise.allSettled(
      Array.from({ length: s.calls }, async (_, i) => {
        await admit();
        return client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: messages(i),
          max_tokens: s.maxTokens,
        });
      }),
    );
    return { failed: results.filter((r) => r.status === 'rejected').length };
  },
};

async function once(name: string, setup: Setup, counter: TiktokenCounter): Promise<Outcome> {
  const sim = await startSimulator({
    quota: { requestsPerWindow: setup.rpm, tokensPerWindow: setup.tpm, windowMs: setup.windowMs },
    latency: { ttftMs: 5, perTokenMs: 0.05, jitter: 0.5 },
    tokenCounter: counter,
  });
  try {
    // Warm up the process's HTTP stack under another API key (the simulator keeps a quota per
    // key): one burst as wide as a window's quota opens the keep-alive connections every
    // approach then shares, so no approach pays TCP handshakes inside the measurement.
    const warm = new OpenAI({ baseURL: sim.baseURL, apiKey: 'sk-warm-up', maxRetries: 0 });
    await Promise.all(
      Array.from({ length: setup.rpm }, (_, i) =>
        warm.chat.completions.create({ model: 'gpt-4o-mini', messages: messages(i), max_tokens: 5 }),
      ),
    );
    sim.reset();
    const start = performance.now();
    const { failed } = await approaches[name]!(sim.baseURL, setup);
    const makespanMs = performance.now() - start;
    const stats = sim.stats();
    return {
      makespanMs,
      admissionSpanMs: (stats.lastAdmissionMs ?? 0) - (stats.firstAdmissionMs ?? 0),
      rateLimited: stats.rateLimited,
      failed,
      chargePerRequest: stats.admitted > 0 ? stats.tokens.charged / stats.admitted : 0,
    };
  } finally {
    await sim.close();
  }
}

export async function utilisation(options: BenchOptions): Promise<SectionResult> {
  const setup: Setup = options.quick
    ? { calls: 30, rpm: 10, tpm: 1_000, windowMs: 300, maxTokens: 50 }
    : { calls: 200, rpm: 20, tpm: 2_000, windowMs: 1_000, maxTokens: 50 };
  const runs = options.quick ? 1 : 3;
  const counter = new TiktokenCounter();
  counter.countText('warm up');
  const rows: {
    name: string;
    makespan: Sample;
    admissionSpan: Sample;
    rateLimited: Sample;
    failed: number;
    minimumMs: number;
  }[] = [];
  for (const name of Object.keys(approaches)) {
    const outcomes: Outcome[] = [];
    const makespan = await repeat(runs, async () => {
      const o = await once(name, setup, counter);
      outcomes.push(o);
      return o.makespanMs;
    });
    // Per window the quota allows rpm requests and tpm tokens; each request is charged
    // prompt + max_tokens at admission, so the tighter of the two sets the pace.
    const charge = Math.max(...outcomes.map((o) => o.chargePerRequest));
    const perWindow = Math.max(1, Math.min(setup.rpm, Math.floor(setup.tpm / charge)));
    const minimumMs = (Math.ceil(setup.calls / perWindow) - 1) * setup.windowMs;
    const failed = outcomes.reduce((n, o) => n + o.failed, 0);
    const admissionSpan = sample(outcomes.map((o) => o.admissionSpanMs));
    const rateLimited = sample(outcomes.map((o) => o.rateLimited));
    rows.push({ name, makespan, admissionSpan, rateLimited, failed, minimumMs });
    options.log(
      `  utilisation: ${name}: ${fmt.ms(makespan.median)}, admissions over ${fmt.ms(admissionSpan.median)} (minimum ${minimumMs} ms), ${rateLimited.median} x 429`,
    );
  }
  rows.push(...(await anthropicRows(options, runs, counter)));
  const header = [
    'approach',
    'makespan',
    'admissions span',
    'minimum',
    'quota used',
    'by makespan',
    '429s',
    'failed calls',
  ];
  const cells = rows.map((r) => [
    r.name,
    fmt.range(r.makespan, fmt.ms),
    fmt.range(r.admissionSpan, fmt.ms),
    `${r.minimumMs} ms`,
    // With calls failed, fewer were admitted than the minimum is for: no share of it is meaningful.
    r.failed > 0 ? 'n/a' : fmt.pct(r.minimumMs / r.admissionSpan.median),
    r.failed > 0 ? 'n/a' : fmt.pct(r.minimumMs / r.makespan.median),
    fmt.range(r.rateLimited, (n) => n.toFixed(0)),
    r.failed,
  ]);
  const tollgate = rows[0]!;
  const used = tollgate.minimumMs / tollgate.admissionSpan.median;
  const claude = rows.find((r) => r.name === 'Anthropic: tollgate')!;
  const claudeUsed = claude.minimumMs / claude.admissionSpan.median;
  return {
    name: 'utilisation',
    title: 'Quota utilisation against a provider with strict RPM and TPM windows, and against Anthropic OTPM',
    data: { setup, runs, rows },
    table: table(header, cells),
    markdown: markdown(header, cells),
    goals: [
      { goal: 'quota used at least 99%', met: used >= 0.99, value: fmt.pct(used) },
      { goal: 'zero 429s', met: tollgate.rateLimited.max === 0, value: `${tollgate.rateLimited.max}` },
      { goal: 'Anthropic: quota used at least 90%', met: claudeUsed >= 0.9, value: fmt.pct(claudeUsed) },
      { goal: 'Anthropic: zero 429s', met: claude.rateLimited.max === 0, value: `${claude.rateLimited.max}` },
    ],
  };
}

/** The Anthropic rows: output tokens per minute bind, input and requests do not. */
async function anthropicRows(options: BenchOptions, runs: number, counter: TiktokenCounter) {
  const setup: AnthropicSetup = options.quick
    ? { calls: 30, rpm: 1_000, itpm: 100_000, otpm: 2_000, windowMs: 1_000, maxTokens: 200 }
    : { calls: 60, rpm: 1_000, itpm: 100_000, otpm: 3_000, windowMs: 2_000, maxTokens: 250 };
  const estimator = anthropicTokenCounter();
  estimator.countText('warm up');
  const rows = [];
  for (const name of Object.keys(anthropicApproaches)) {
    const outcomes: Awaited<ReturnType<typeof anthropicOnce>>[] = [];
    const makespan = await repeat(runs, async () => {
      const o = await anthropicOnce(name, setup, { counter, estimator });
      outcomes.push(o);
      return o.makespanMs;
    });
    const minimumMs = Math.round(sample(outcomes.map((o) => o.minimumMs)).median);
    const failed = outcomes.reduce((n, o) => n + o.failed, 0);
    const admissionSpan = sample(outcomes.map((o) => o.admissionSpanMs));
    const rateLimited = sample(outcomes.map((o) => o.rateLimited));
    rows.push({ name, makespan, admissionSpan, rateLimited, failed, minimumMs });
    options.log(
      `  utilisation: ${name}: ${fmt.ms(makespan.median)}, admissions over ${fmt.ms(admissionSpan.median)} (minimum ${minimumMs} ms), ${rateLimited.median} x 429`,
    );
  }
  return rows;
}
