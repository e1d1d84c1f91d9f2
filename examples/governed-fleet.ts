/**
 * Many callers share one provider quota through one governor: every call is estimated,
 * reserved, made and settled. Against the embedded simulator (strict 7 requests per
 * "minute", time-compressed) by default; against a real endpoint when OPENAI_API_KEY is
 * set (OPENAI_BASE_URL, OPENAI_MODEL and TOLLGATE_* limits are read from the environment).
 *
 *   npm run example:clients                      # 50 callers x 3 calls, 7 per minute, a minute = 1 s
 *   npm run example:clients -- --callers 20 --calls 2 --rpm 10 --window-ms 500
 *   npm run example:clients -- --stream          # the same calls, streamed
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { TiktokenCounter } from '@tollgate/core';
import { ResourceGovernor, resourceLimitsFromEnv } from '@tollgate/limits';
import { type ChatRequest, GovernedClient, OpenAIClient } from '@tollgate/llm-clients';
import { startSimulator } from '@tollgate/simulator';
import { lastValueFrom, toArray } from 'rxjs';

export interface FleetOptions {
  readonly callers?: number;
  readonly calls?: number;
  readonly rpm?: number;
  /** How long a "minute" lasts against the simulator. */
  readonly windowMs?: number;
  /** Stream every reply: the provider's window then counts from each reply's first chunk. */
  readonly stream?: boolean;
  readonly log?: (line: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface FleetResult {
  readonly calls: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly rateLimited: number;
  readonly providerRateLimited: number | undefined;
  readonly makespanMs: number;
  readonly minimumMs: number | undefined;
  readonly tokens: number;
}

export async function main(options: FleetOptions = {}): Promise<FleetResult> {
  const {
    callers = 50,
    calls = 3,
    rpm = 7,
    windowMs = 1_000,
    stream = false,
    log = console.log,
    env = process.env,
  } = options;
  const real = Boolean(env.OPENAI_API_KEY);
  const counter = new TiktokenCounter();
  counter.countText('warm up'); // load the encoder before the clock starts
  const sim = real
    ? undefined
    : await startSimulator({ quota: { requestsPerWindow: rpm, windowMs }, tokenCounter: counter });
  const limits = real
    ? resourceLimitsFromEnv(env, 'TOLLGATE_', { maxRequestsPerMinute: rpm, algorithm: 'sliding-window' })
    : {
        maxRequestsPerMinute: rpm,
        algorithm: 'sliding-window' as const,
        timeScale: 60_000 / windowMs,
        resourceWaitTimeoutSeconds: 3_600,
      };
  const provider = new ResourceGovernor(limits, { name: 'provider' });
  const inner = new OpenAIClient({
    model: env.OPENAI_MODEL ?? (real ? 'gpt-4o-mini' : 'sim-small'),
    ...(sim ? { baseURL: sim.baseURL, apiKey: 'sk-demo' } : { baseURL: env.OPENAI_BASE_URL }),
  });
  const client = new GovernedClient(inner, { governors: [provider], tokenCounter: counter });
  // One call, whole or streamed: either way it is estimated, reserved, made and settled.
  const ask = async (request: ChatRequest): Promise<void> => {
    if (!stream) {
      await client.chat(request);
      return;
    }
    const chunks = await lastValueFrom(client.stream(request).pipe(toArray()));
    if (!chunks.some((c) => c.finishReason)) throw new Error('the stream ended without a finish reason');
  };
  log(
    `${callers} callers x ${calls} ${stream ? 'streamed ' : ''}calls, ${rpm} requests per ${real ? 'minute' : `${windowMs} ms "minute"`}, against ${sim ? `the simulator (${sim.baseURL})` : (env.OPENAI_BASE_URL ?? 'OpenAI')}`,
  );

  let done = 0;
  const total = callers * calls;
  const started = performance.now();
  const progress = setInterval(
    () => {
      const s = provider.checkResourceAvailability();
      log(
        `  ${String(Math.round(performance.now() - started)).padStart(6)} ms  ${done}/${total} done, ${s.queued} waiting, ${client.stats.rateLimited} x 429`,
      );
    },
    Math.max(windowMs * 2, 1_000),
  );
  try {
    await Promise.all(
      Array.from({ length: callers }, async (_, i) => {
        for (let c = 0; c < calls; c++) {
          await ask({
            messages: [
              { role: 'user', content: `Agent ${i}, step ${c}: summarise your findings in one line.` },
            ],
            maxTokens: 60,
          }).catch((error: unknown) => log(`  agent ${i} call ${c} failed: ${(error as Error).message}`));
          done++;
        }
      }),
    );
  } finally {
    clearInterval(progress);
  }
  const makespanMs = performance.now() - started;
  const minimumMs = real ? undefined : (Math.ceil(total / rpm) - 1) * windowMs;
  const result: FleetResult = {
    calls: total,
    succeeded: client.stats.succeeded,
    failed: client.stats.failed,
    rateLimited: client.stats.rateLimited,
    providerRateLimited: sim?.stats().rateLimited,
    makespanMs,
    minimumMs,
    tokens: client.stats.usage.totalTokens,
  };
  log('');
  log(`  calls          ${result.succeeded}/${result.calls} succeeded, ${result.failed} failed`);
  log(
    `  429s           ${result.rateLimited} seen by the client${sim ? `, ${result.providerRateLimited} sent by the provider` : ''}`,
  );
  log(
    `  makespan       ${(makespanMs / 1000).toFixed(2)} s${minimumMs ? ` (theoretical minimum ${(minimumMs / 1000).toFixed(2)} s, +${((makespanMs / minimumMs - 1) * 100).toFixed(1)}%)` : ''}`,
  );
  log(`  tokens         ${result.tokens}`);
  await sim?.close();
  provider.dispose();
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      callers: { type: 'string' },
      calls: { type: 'string' },
      rpm: { type: 'string' },
      'window-ms': { type: 'string' },
      stream: { type: 'boolean', default: false },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const result = await main({
    ...(values.callers ? { callers: num(values.callers) } : {}),
    ...(values.calls ? { calls: num(values.calls) } : {}),
    ...(values.rpm ? { rpm: num(values.rpm) } : {}),
    ...(values['window-ms'] ? { windowMs: num(values['window-ms']) } : {}),
    stream: values.stream,
  });
  process.exitCode = result.failed > 0 || (result.providerRateLimited ?? 0) > 0 ? 1 : 0;
}
