/**
 * The main job: a fleet of agents sharing one provider quota, with zero 429s.
 *
 * 50 agents each run one task of three LLM calls (two tool-calling turns, then an answer)
 * on a 7 requests-per-minute quota. Layer 1 paces agent starts (7 per minute) and caps
 * agents running at once; layer 2, the provider governor every call passes, keeps the
 * quota. Against the embedded simulator, which enforces the quota strictly and answers
 * 429 past it, a "minute" is compressed (2.5 s by default, so 150 calls take about a
 * minute). With OPENAI_API_KEY set it runs against that endpoint with real minutes
 * (OPENAI_BASE_URL, OPENAI_MODEL and TOLLGATE_PROVIDER_* limits are read too).
 *
 *   npm run demo
 *   npm run demo -- --preset light|medium|heavy    # 10, 100 or 500 agents, each run about a minute
 *   npm run demo -- --agents 500 --rpm 120 --window-ms 1000
 *   npm run demo -- --agents 20 --rpm 10 --out .tollgate/demo --responses
 *   npm run demo -- --stream      # replies streamed: each call holds the window only until its first chunk
 *   npm run demo -- --dashboard   # a live page of the run at the printed URL (127.0.0.1), kept up after it until Ctrl-C
 *   npm run demo -- --provider anthropic|gemini|openai   # the provider's client and protocol (default openai);
 *                                 # with ANTHROPIC_API_KEY / GEMINI_API_KEY set, against the real endpoint
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  AgentFleet,
  bindAgent,
  createTollgateContainer,
  defineTool,
  FleetProgress,
  type FleetTask,
  formatReport,
  HybridAgent,
  type RunReport,
  type TaskResult,
  writeReport,
} from '@tollgate/agents';
import { TiktokenCounter, TOKENS } from '@tollgate/core';
import { type Dashboard, serveDashboard } from '@tollgate/dashboard';
import type { ResourceGovernor } from '@tollgate/limits';
import {
  AnthropicClient,
  GeminiClient,
  type LLMClient,
  OpenAIClient,
  tokenCounterFor,
} from '@tollgate/llm-clients';
import { startSimulator } from '@tollgate/simulator';
import { z } from 'zod';

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks up a fact about a topic in the team notes',
  parameters: z.object({ topic: z.string() }),
  execute: ({ topic }) => `Notes on ${topic}: quotas are shared, windows are strict, retries cost calls.`,
});

class Analyst extends HybridAgent {
  readonly systemPrompt =
    'You are an analyst. Look things up with the tool (twice if useful), then answer in one line.';
  override readonly tools = [lookup];
  override readonly maxTokens = 60;
}

export interface DemoOptions {
  readonly agents?: number;
  readonly rpm?: number;
  /** Agents started per minute (layer 1). @default rpm */
  readonly startsPerMinute?: number;
  /** Agents running at once. @default 50 */
  readonly concurrency?: number;
  /** How long a "minute" lasts against the simulator. @default 2_500 */
  readonly windowMs?: number;
  /** Where to write metrics.json. */
  readonly out?: string;
  /** Also write each agent's answer next to metrics.json. */
  readonly responses?: boolean;
  /** Stream every reply (`chatTransport: 'stream'`): the quota's hold ends at each reply's first chunk. */
  readonly stream?: boolean;
  readonly log?: (line: string) => void;
  /** Progress goes here (plain lines unless it is a terminal). @default process.stderr */
  readonly progress?: { write(text: string): unknown; readonly isTTY?: boolean } | false;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Serve the live dashboard during the run (on this port; 0: any free one); the result holds it, still open. */
  readonly dashboard?: boolean;
  /** @default 7357 */
  readonly dashboardPort?: number;
  /** Whose client and protocol: the simulator speaks all three. @default 'openai' */
  readonly provider?: DemoProvider;
}

/** The providers the demo runs against. */
export type DemoProvider = 'openai' | 'anthropic' | 'gemini';

/** Each provider's key variable, model variable and default model. */
const PROVIDERS = {
  openai: { key: 'OPENAI_API_KEY', model: 'OPENAI_MODEL', defaultModel: 'gpt-4o-mini' },
  anthropic: { key: 'ANTHROPIC_API_KEY', model: 'ANTHROPIC_MODEL', defaultModel: 'claude-sonnet-4-6' },
  gemini: { key: 'GEMINI_API_KEY', model: 'GEMINI_MODEL', defaultModel: 'gemini-2.5-flash' },
} as const;

/** The client of `name`: on the simulator when there is one, else on the real endpoint (its key from the environment). */
function clientFor(
  name: DemoProvider,
  model: string,
  sim: { url: string; baseURL: string } | undefined,
  env: Readonly<Record<string, string | undefined>>,
): LLMClient {
  if (name === 'anthropic')
    return new AnthropicClient({ model, ...(sim ? { baseURL: sim.url, apiKey: 'sk-ant-demo' } : {}) });
  if (name === 'gemini')
    return new GeminiClient({ model, ...(sim ? { baseURL: sim.url, apiKey: 'AIza-demo' } : {}) });
  return new OpenAIClient({
    model,
    ...(sim ? { baseURL: sim.baseURL, apiKey: 'sk-demo' } : { baseURL: env.OPENAI_BASE_URL }),
  });
}

export interface DemoResult {
  readonly report: RunReport;
  /** 429s the provider sent (simulator only). */
  readonly providerRateLimited: number | undefined;
  /** The least time the quota allows for all calls (simulator only). */
  readonly minimumMs: number | undefined;
  readonly metricsPath: string | undefined;
  /** The dashboard, still serving the final state (close it), when asked for. */
  readonly dashboard: Dashboard | undefined;
}

export async function main(options: DemoOptions = {}): Promise<DemoResult> {
  const {
    agents = 50,
    rpm = 7,
    windowMs = 2_500,
    concurrency = 50,
    log = console.log,
    env = process.env,
  } = options;
  const providerName = options.provider ?? 'openai';
  const spec = PROVIDERS[providerName];
  const real = Boolean(env[spec.key]);
  const minute = real ? 60_000 : windowMs;
  const tokenCounter = tokenCounterFor(providerName);
  tokenCounter.countText('warm up'); // load the encoders before the clock starts
  // The Anthropic route counts with a tokenizer of its own; the others share a warmed one.
  const simCounter = providerName === 'anthropic' ? undefined : new TiktokenCounter();
  simCounter?.countText('warm up');
  const sim = real
    ? undefined
    : await startSimulator({
        quota: { requestsPerWindow: rpm, windowMs },
        toolTurns: 2,
        ...(simCounter ? { tokenCounter: simCounter } : {}),
      });
  const model = env[spec.model] ?? spec.defaultModel;
  const provider = clientFor(providerName, model, sim, env);
  const container = createTollgateContainer({
    provider,
    tokenCounter,
    limits: { taskTimeoutSeconds: real ? 600 : 3_600, resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY },
    providerLimits: {
      maxRequestsPerMinute: rpm,
      algorithm: 'sliding-window', // the provider's windows are strict: never more than rpm in any minute
      timeScale: 60_000 / minute,
      resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
    },
    ...(real ? { env } : {}),
    ...(options.stream ? { client: { chatTransport: 'stream' as const } } : {}),
  });
  bindAgent(container, Analyst);
  const providerGovernor = container.get<ResourceGovernor>(TOKENS.ProviderGovernor);

  // #region fleet
  const fleet = new AgentFleet({
    createAgent: () => container.get(Analyst),
    startsPerMinute: options.startsPerMinute ?? rpm,
    maxConcurrentAgents: concurrency,
    providerGovernor,
    timeScale: 60_000 / minute,
    model,
    estimate: { promptTokens: 3 * 150, completionTokens: 3 * 40 },
    name: 'demo',
  });
  const tasks: FleetTask[] = Array.from({ length: agents }, (_, i) => ({
    id: `task-${String(i + 1).padStart(3, '0')}`,
    input: `Agent ${i + 1}: what should a team sharing one API key know about quotas?`,
  }));
  // #endregion fleet
  const dashboard = options.dashboard
    ? await serveDashboard(fleet, { port: options.dashboardPort ?? 7357, title: 'Tollgate demo' })
    : undefined;
  if (dashboard) log(`dashboard: ${dashboard.url}`);
  const estimate = fleet.estimate(tasks.length);
  const rpmLimit = providerGovernor.limits.maxRequestsPerMinute;
  log(
    `${agents} agents x 3 calls on ${rpmLimit} requests per ${real ? 'minute' : `${minute} ms "minute"`}, ${providerName} protocol, against ${sim ? `the simulator (${sim.url})` : (env.OPENAI_BASE_URL ?? providerName)}`,
  );
  log(
    `estimate: ${estimate.totalTokens.toLocaleString('en-US')} tokens, $${estimate.cost.toFixed(4)} at ${model} prices`,
  );
  const progress =
    options.progress === false
      ? undefined
      : new FleetProgress(fleet, {
          stream: options.progress ?? process.stderr,
          plainIntervalMs: Math.max(5_000, minute * 2),
          callsPerTask: 3, // two tool-calling turns and an answer: the ETA is the calls left over the quota
        }).start();
  const results: TaskResult<unknown>[] = [];
  fleet.events$.subscribe((e) => e.type === 'task-finished' && results.push(e.result));
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let report: RunReport;
  try {
    report = await fleet.run(tasks, { signal: controller.signal });
  } finally {
    process.off('SIGINT', onSigint);
    progress?.stop();
  }
  const calls = report.totals.llmCalls;
  const minimumMs = sim ? (Math.ceil(calls / rpm) - 1) * windowMs : undefined;
  const metricsPath = options.out
    ? await writeReport(report, options.out, options.responses ? { responses: results } : {})
    : undefined;
  log('');
  log(formatReport(report, metricsPath ? { metricsPath } : {}));
  log('');
  const providerRateLimited = sim?.stats().rateLimited;
  log(
    `429s: ${report.totals.rateLimited} seen by the agents${sim ? `, ${providerRateLimited} sent by the provider` : ''}`,
  );
  if (minimumMs)
    log(
      `makespan ${(report.durationMs / 1000).toFixed(1)} s; the quota allows no less than ${(minimumMs / 1000).toFixed(1)} s for ${calls} calls (+${((report.durationMs / minimumMs - 1) * 100).toFixed(1)}%)`,
    );
  if (metricsPath) log(`report written to ${metricsPath}`);
  fleet.dispose();
  providerGovernor.dispose();
  await sim?.close();
  return { report, providerRateLimited, minimumMs, metricsPath, dashboard };
}

/** Run presets for `--preset`: agents, and a quota that keeps each run near a (compressed) minute. */
export const PRESETS = {
  light: { agents: 10, rpm: 7 },
  medium: { agents: 100, rpm: 14 },
  heavy: { agents: 500, rpm: 70 },
} as const satisfies Record<string, DemoOptions>;

/** The demo's options from its command line and TOLLGATE_DEMO_* variables; flags override a preset. */
export function demoOptionsFrom(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): DemoOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      preset: { type: 'string' },
      agents: { type: 'string' },
      rpm: { type: 'string' },
      starts: { type: 'string' },
      concurrency: { type: 'string' },
      'window-ms': { type: 'string' },
      out: { type: 'string', default: '.tollgate/demo' },
      responses: { type: 'boolean', default: false },
      stream: { type: 'boolean', default: false },
      dashboard: { type: 'boolean', default: false },
      'dashboard-port': { type: 'string' },
      provider: { type: 'string' },
    },
  });
  const providerName = values.provider ?? env.TOLLGATE_DEMO_PROVIDER;
  if (providerName !== undefined && !Object.hasOwn(PROVIDERS, providerName))
    throw new Error(`--provider: expected ${Object.keys(PROVIDERS).join(', ')}, got ${providerName}`);
  const presetName = values.preset ?? env.TOLLGATE_DEMO_PRESET;
  if (presetName !== undefined && !Object.hasOwn(PRESETS, presetName))
    throw new Error(`--preset: expected ${Object.keys(PRESETS).join(', ')}, got ${presetName}`);
  const preset: DemoOptions = presetName ? PRESETS[presetName as keyof typeof PRESETS] : {};
  const num = (flag: string | undefined, variable: string | undefined) => {
    const raw = flag ?? variable;
    return raw === undefined ? undefined : Number(raw);
  };
  const picked = {
    agents: num(values.agents, env.TOLLGATE_DEMO_AGENTS),
    rpm: num(values.rpm, env.TOLLGATE_DEMO_RPM),
    startsPerMinute: num(values.starts, env.TOLLGATE_DEMO_STARTS_PER_MINUTE),
    concurrency: num(values.concurrency, env.TOLLGATE_DEMO_CONCURRENCY),
    windowMs: num(values['window-ms'], env.TOLLGATE_DEMO_WINDOW_MS),
  };
  const flags: Record<keyof typeof picked, string> = {
    agents: 'agents',
    rpm: 'rpm',
    startsPerMinute: 'starts',
    concurrency: 'concurrency',
    windowMs: 'window-ms',
  };
  for (const [name, value] of Object.entries(picked) as Array<[keyof typeof picked, number | undefined]>)
    if (value !== undefined && !(Number.isFinite(value) && value > 0))
      throw new Error(`--${flags[name]}: expected a number above 0, got ${value}`);
  const defined = Object.fromEntries(Object.entries(picked).filter(([, v]) => v !== undefined));
  return {
    ...preset,
    ...defined,
    out: values.out,
    responses: values.responses,
    stream: values.stream || env.TOLLGATE_DEMO_STREAM === '1',
    ...(values.dashboard ? { dashboard: true } : {}),
    ...(providerName ? { provider: providerName as DemoProvider } : {}),
    ...(values['dashboard-port'] === undefined ? {} : { dashboardPort: Number(values['dashboard-port']) }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let options: DemoOptions;
  try {
    options = demoOptionsFrom(process.argv.slice(2), process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const { report, providerRateLimited, dashboard } = await main(options);
  if (dashboard) {
    console.log(`dashboard: still at ${dashboard.url} with the final state; Ctrl-C to stop`);
    await new Promise((resolve) => process.once('SIGINT', resolve));
    await dashboard.close();
  }
  const clean =
    report.totals.failed === 0 && report.totals.rateLimited === 0 && (providerRateLimited ?? 0) === 0;
  process.exitCode = clean && report.stopReason === 'completed' ? 0 : 1;
}
