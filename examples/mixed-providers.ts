/**
 * One container, three providers: OpenAI, Anthropic and Gemini agents in one fleet, each
 * provider with its own quota and the one governor of that quota its agents share. Each
 * task names its provider. Runs offline against three embedded simulators (one per
 * provider, each strict about its own quota, a "minute" time-compressed); with real
 * clients (`openai({ model })`, `anthropic({ model })`, `gemini({ model })`, reading their
 * API keys from the environment) nothing else changes.
 *
 *   npm run example:providers
 */
import { pathToFileURL } from 'node:url';
import { AgentFleet, agentDepsFor, createTollgateContainer, HybridAgent } from '@tollgate/agents';
import { TiktokenCounter } from '@tollgate/core';
import { anthropic, gemini, openai } from '@tollgate/llm-clients';
import { type SimulatorQuota, startSimulator } from '@tollgate/simulator';

export interface MixedProvidersOptions {
  /** Tasks per provider. @default 6 */
  readonly tasks?: number;
  /** How long a "minute" lasts against the simulators. @default 500 */
  readonly windowMs?: number;
  readonly log?: (line: string) => void;
}

/** What one provider did in the run. */
export interface ProviderOutcome {
  readonly tasks: number;
  readonly completed: number;
  /** Calls the provider's simulator admitted, and the 429s it sent. */
  readonly admitted: number;
  readonly rateLimited: number;
}

type Provider = 'openai' | 'anthropic' | 'gemini';

class Analyst extends HybridAgent {
  readonly systemPrompt = 'Answer in one line.';
  override readonly maxTokens = 100;
}

export async function main(options: MixedProvidersOptions = {}): Promise<Record<Provider, ProviderOutcome>> {
  const { tasks: perProvider = 6, windowMs = 500, log = console.log } = options;
  const tokenCounter = new TiktokenCounter(); // one tokenizer for the simulators and the OpenAI agents
  const simulator = (quota: SimulatorQuota) =>
    startSimulator({ quota: { windowMs, ...quota }, latency: { ttftMs: 5, perTokenMs: 0.05 }, tokenCounter });
  // Each provider's quota, per "minute": OpenAI 4 requests, Anthropic 600 output tokens, Gemini 3 requests.
  const sims = {
    openai: await simulator({ requestsPerWindow: 4 }),
    anthropic: await simulator({ outputTokensPerWindow: 600 }),
    gemini: await simulator({ requestsPerWindow: 3 }),
  };
  const minute = { timeScale: 60_000 / windowMs };
  // #region providers
  const container = createTollgateContainer({
    limits: { maxConcurrentTasks: 1 }, // per agent
    tokenCounter, // Anthropic's and Gemini's agents estimate with their own (anthropicTokenCounter(), geminiTokenCounter())
    providers: {
      openai: {
        client: openai({ model: 'gpt-4o-mini', baseURL: sims.openai.baseURL, apiKey: 'sk-example' }),
        limits: { maxRequestsPerMinute: 4, algorithm: 'sliding-window', ...minute },
      },
      anthropic: {
        client: anthropic({
          model: 'claude-sonnet-4-6',
          baseURL: sims.anthropic.url,
          apiKey: 'sk-ant-example',
        }),
        limits: { maxOutputTokensPerMinute: 600, ...minute }, // token buckets, as Anthropic's
        clientOptions: { providerCharging: 'usage' }, // Anthropic gives back unused max_tokens
      },
      gemini: {
        client: gemini({ model: 'gemini-2.5-flash', baseURL: sims.gemini.url, apiKey: 'AIza-example' }),
        limits: { maxRequestsPerMinute: 3, algorithm: 'sliding-window', ...minute },
      },
    },
  });
  const fleet = new AgentFleet({
    // Each task names its provider: its agent calls that provider's client through its governor.
    createAgent: (task) => new Analyst(agentDepsFor(container, task.metadata?.provider as string)),
  });
  // #endregion providers
  const names = Object.keys(sims) as Provider[];
  const tasks = names.flatMap((provider) =>
    Array.from({ length: perProvider }, (_, i) => ({
      id: `${provider}-${i + 1}`,
      input: `Why would ${provider} agents share one quota? (${i + 1})`,
      metadata: { provider },
    })),
  );
  log(
    `${tasks.length} tasks on ${names.join(', ')}, each provider on its own quota (a minute = ${windowMs} ms)`,
  );
  const report = await fleet.run(tasks);
  const outcome = {} as Record<Provider, ProviderOutcome>;
  for (const name of names) {
    const rows = report.agents.filter((row) => row.taskId.startsWith(`${name}-`));
    const stats = sims[name].stats();
    outcome[name] = {
      tasks: rows.length,
      completed: rows.filter((row) => row.status === 'completed').length,
      admitted: stats.admitted,
      rateLimited: stats.rateLimited,
    };
    log(`  ${name.padEnd(9)} ${outcome[name].completed}/${rows.length} completed, ${stats.rateLimited} 429s`);
  }
  log(`  all done in ${(report.durationMs / 1000).toFixed(2)} s`);
  await container.unbindAll();
  await Promise.all(names.map((name) => sims[name].close()));
  return outcome;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outcome = await main();
  const ok = Object.values(outcome).every((o) => o.completed === o.tasks && o.rateLimited === 0);
  process.exitCode = ok ? 0 : 1;
}
