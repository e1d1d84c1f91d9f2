/**
 * A fleet of AI SDK `generateText` calls under one provider quota: the model is wrapped in
 * `tollgateMiddleware`, so every call is paced before it is sent and settled with its
 * usage, and the provider governor's events are printed as they happen. Against the
 * embedded simulator (strict 7 requests per "minute", time-compressed) by default; against
 * an OpenAI-compatible endpoint when OPENAI_API_KEY is set (OPENAI_BASE_URL, OPENAI_MODEL).
 *
 *   npm run example:ai-sdk                             # 21 calls, 7 per minute, a minute = 1 s
 *   npm run example:ai-sdk -- --calls 50 --rpm 7 --window-ms 500
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { tollgateMiddleware } from '@tollgate/ai-sdk';
import { TiktokenCounter } from '@tollgate/core';
import { type GovernorEvent, ResourceGovernor } from '@tollgate/limits';
import { startSimulator } from '@tollgate/simulator';
import { generateText, wrapLanguageModel } from 'ai';

export interface AiSdkFleetOptions {
  readonly calls?: number;
  readonly rpm?: number;
  /** How long a "minute" lasts against the simulator. */
  readonly windowMs?: number;
  readonly log?: (line: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface AiSdkFleetResult {
  readonly calls: number;
  readonly succeeded: number;
  /** 429s the simulator sent (`undefined` against a real endpoint). */
  readonly providerRateLimited: number | undefined;
  readonly makespanMs: number;
  readonly minimumMs: number | undefined;
  readonly tokens: number;
  /** How many of each governor event were printed. */
  readonly events: Readonly<Record<string, number>>;
}

/** One line per governor event, times from the start of the run. */
function describe(e: GovernorEvent, started: number): string | undefined {
  const t = `${String(Math.round(e.at - started)).padStart(6)} ms`;
  switch (e.type) {
    case 'queued':
      return `${t}  queued    ${e.queued} waiting (${e.reason})`;
    case 'acquired':
      return `${t}  acquired  lease ${e.leaseId}: ${e.cost.tokens} tokens reserved, waited ${Math.round(e.waitedMs)} ms`;
    case 'settled':
      return `${t}  settled   lease ${e.leaseId}: ${e.actual.inputTokens} in + ${e.actual.outputTokens} out`;
    case 'cooldown':
      return `${t}  cooldown  ${Math.round(e.ms)} ms: ${e.reason}`;
    default:
      return undefined;
  }
}

export async function main(options: AiSdkFleetOptions = {}): Promise<AiSdkFleetResult> {
  const { calls = 21, rpm = 7, windowMs = 1_000, log = console.log, env = process.env } = options;
  const real = Boolean(env.OPENAI_API_KEY);
  const counter = new TiktokenCounter();
  counter.countText('warm up'); // load the encoder before the clock starts
  const sim = real
    ? undefined
    : await startSimulator({ quota: { requestsPerWindow: rpm, windowMs }, tokenCounter: counter });
  const provider = new ResourceGovernor(
    {
      maxRequestsPerMinute: rpm,
      algorithm: 'sliding-window',
      timeScale: real ? 1 : 60_000 / windowMs,
      resourceWaitTimeoutSeconds: 3_600,
    },
    { name: 'provider' },
  );
  const openai = createOpenAICompatible({
    name: 'openai',
    baseURL: sim?.baseURL ?? env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
    apiKey: sim ? 'sk-demo' : env.OPENAI_API_KEY,
    includeUsage: true,
  });
  const middleware = tollgateMiddleware({ governors: [provider], tokenCounter: counter });
  const model = wrapLanguageModel({ model: openai(env.OPENAI_MODEL ?? 'gpt-4o-mini'), middleware });
  log(`${calls} generateText calls, ${rpm} requests per ${real ? 'minute' : `${windowMs} ms "minute"`}`);

  const started = provider.checkResourceAvailability().at;
  const counts: Record<string, number> = {};
  const printed = provider.events$.subscribe((e) => {
    const line = describe(e, started);
    if (!line) return;
    counts[e.type] = (counts[e.type] ?? 0) + 1;
    log(line);
  });
  const t0 = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: calls }, (_, i) =>
      // maxRetries: 0: the middleware retries, in the governor's queue, honouring retry-after.
      generateText({
        model,
        prompt: `Item ${i}: summarise it in one line.`,
        maxOutputTokens: 60,
        maxRetries: 0,
      }),
    ),
  );
  const makespanMs = performance.now() - t0;
  printed.unsubscribe();
  const result: AiSdkFleetResult = {
    calls,
    succeeded: results.filter((r) => r.status === 'fulfilled').length,
    providerRateLimited: sim?.stats().rateLimited,
    makespanMs,
    minimumMs: real ? undefined : (Math.ceil(calls / rpm) - 1) * windowMs,
    tokens: middleware.stats.usage.totalTokens,
    events: counts,
  };
  log('');
  log(`calls      ${result.succeeded}/${calls} succeeded`);
  log(
    `429s       ${middleware.stats.rateLimited} seen${sim ? `, ${result.providerRateLimited} sent by the provider` : ''}`,
  );
  log(
    `makespan   ${(makespanMs / 1000).toFixed(2)} s${result.minimumMs ? ` (the quota allows no less than ${(result.minimumMs / 1000).toFixed(2)} s)` : ''}`,
  );
  log(`tokens     ${result.tokens}`);
  await sim?.close();
  provider.dispose();
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { calls: { type: 'string' }, rpm: { type: 'string' }, 'window-ms': { type: 'string' } },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const result = await main({
    ...(values.calls ? { calls: num(values.calls) } : {}),
    ...(values.rpm ? { rpm: num(values.rpm) } : {}),
    ...(values['window-ms'] ? { windowMs: num(values['window-ms']) } : {}),
  });
  process.exitCode = result.succeeded < result.calls || (result.providerRateLimited ?? 0) > 0 ? 1 : 0;
}
