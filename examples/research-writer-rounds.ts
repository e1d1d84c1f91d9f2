/**
 * A round-based flow with a token budget: researchers take topics, writers take finished
 * research; each round dispatches up to `batchSize` ready tasks per role; the run exits
 * early when nothing is ready, and stops dispatching before the next batch would cross
 * the budget. Runs against the embedded simulator.
 *
 *   npm run example:rounds
 *   npm run example:rounds -- --max-tokens 5000   # enough for every post
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  AgentFleet,
  bindAgent,
  createTollgateContainer,
  type FleetTask,
  formatReport,
  HybridAgent,
  type RunReport,
} from '@tollgate/agents';
import { TiktokenCounter, TOKENS } from '@tollgate/core';
import type { ResourceGovernor } from '@tollgate/limits';
import { OpenAIClient } from '@tollgate/llm-clients';
import { startSimulator } from '@tollgate/simulator';

class Researcher extends HybridAgent {
  readonly systemPrompt = 'You research a topic and list three findings.';
  override readonly maxTokens = 120;
}

class Writer extends HybridAgent {
  readonly systemPrompt = 'You turn research findings into a short blog post.';
  override readonly maxTokens = 200;
}

export interface RoundsOptions {
  readonly topics?: readonly string[];
  readonly maxTokens?: number;
  readonly batchSize?: number;
  readonly maxRounds?: number;
  readonly log?: (line: string) => void;
}

export async function main(options: RoundsOptions = {}): Promise<RunReport> {
  const { log = console.log, batchSize = 2, maxRounds = 10 } = options;
  const topics = options.topics ?? ['token buckets', 'sliding windows', 'retry budgets', 'circuit breakers'];
  const tokenCounter = new TiktokenCounter();
  const sim = await startSimulator({ tokenCounter, latency: { ttftMs: 5, perTokenMs: 0.05, jitter: 0 } });
  const container = createTollgateContainer({
    provider: new OpenAIClient({ model: 'gpt-4o-mini', baseURL: sim.baseURL, apiKey: 'sk-example' }),
    tokenCounter,
    providerLimits: { maxRequestsPerMinute: 600, maxTokensPerMinute: 200_000 },
  });
  bindAgent(container, Researcher, Writer);

  // #region rounds
  const research: FleetTask[] = topics.map((topic, i) => ({ id: `research-${i + 1}`, input: topic }));
  const fleet = new AgentFleet({
    createAgent: (task) => (task.role === 'writer' ? container.get(Writer) : container.get(Researcher)),
    providerGovernor: container.get<ResourceGovernor>(TOKENS.ProviderGovernor),
    maxConcurrentAgents: 4,
    budget: { maxTokens: options.maxTokens ?? 900, warnAt: 0.6 },
    estimate: { promptTokens: 60, completionTokens: 120 },
    model: 'gpt-4o-mini',
  });
  fleet.events$.subscribe((e) => {
    if (e.type === 'round-started') log(`round ${e.round}: ${e.tasks} task(s)`);
    if (e.type === 'budget-warning') log(`budget warning: ${e.spent} of ${e.cap} ${e.resource}`);
    if (e.type === 'budget-stop') log(`budget stop: ${e.detail}`);
  });
  const report = await fleet.runRounds({
    maxRounds,
    batchSize,
    roles: {
      researcher: {
        ready: (limit, { results }) =>
          research.filter((t) => !results.some((r) => r.taskId === t.id)).slice(0, limit),
      },
      writer: {
        // A post is ready once its research is done.
        ready: (limit, { results }) =>
          results
            .filter((r) => r.ok && r.taskId.startsWith('research-'))
            .filter((r) => !results.some((w) => w.taskId === `post-${r.taskId}`))
            .slice(0, limit)
            .map((r) => ({ id: `post-${r.taskId}`, input: `Write a post from: ${String(r.output)}` })),
      },
    },
  });
  // #endregion rounds

  log(formatReport(report, { maxAgentRows: 0 }));
  fleet.dispose();
  await sim.close();
  return report;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { 'max-tokens': { type: 'string' } } });
  await main(values['max-tokens'] ? { maxTokens: Number(values['max-tokens']) } : {});
}
