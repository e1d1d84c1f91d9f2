// A fleet of tool-using agents against the simulator on 127.0.0.1, for the telemetry and dashboard tests.
import {
  AgentFleet,
  bindAgent,
  createTollgateContainer,
  defineTool,
  type FleetTask,
  HybridAgent,
} from '@tollgate/agents';
import { TiktokenCounter, TOKENS } from '@tollgate/core';
import type { ResourceGovernor, ResourceLimits } from '@tollgate/limits';
import { OpenAIClient } from '@tollgate/llm-clients';
import { type SimulatorOptions, startSimulator } from '@tollgate/simulator';
import { z } from 'zod';

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks up a topic in the notes',
  parameters: z.object({ topic: z.string() }),
  execute: ({ topic }) => `Notes on ${topic}: windows are strict.`,
});

export class Analyst extends HybridAgent {
  readonly systemPrompt = 'Look the topic up with the tool, then answer in one line.';
  override readonly tools = [lookup];
  override readonly maxTokens = 40;
}

export interface SimulatedFleetOptions {
  readonly agents: number;
  /** Requests per window, for the simulator and the provider governor. */
  readonly rpm: number;
  readonly windowMs: number;
  readonly providerLimits?: ResourceLimits;
  readonly simulator?: Omit<SimulatorOptions, 'quota' | 'tokenCounter'>;
  readonly concurrency?: number;
}

/** The parts of a simulated fleet run; `close()` disposes everything. */
export async function simulatedFleet(options: SimulatedFleetOptions) {
  const { agents, rpm, windowMs } = options;
  const tokenCounter = new TiktokenCounter();
  tokenCounter.countText('warm up'); // load the encoder before anything is timed
  const sim = await startSimulator({
    quota: { requestsPerWindow: rpm, windowMs },
    toolTurns: 1,
    tokenCounter,
    ...options.simulator,
  });
  const model = 'gpt-4o-mini';
  const provider = new OpenAIClient({ model, baseURL: sim.baseURL, apiKey: 'sk-test' });
  const container = createTollgateContainer({
    provider,
    tokenCounter,
    limits: { resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY },
    providerLimits: {
      maxRequestsPerMinute: rpm,
      algorithm: 'sliding-window',
      timeScale: 60_000 / windowMs,
      resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
      ...options.providerLimits,
    },
  });
  bindAgent(container, Analyst);
  const providerGovernor = container.get<ResourceGovernor>(TOKENS.ProviderGovernor);
  const fleet = new AgentFleet({
    createAgent: () => container.get(Analyst),
    maxConcurrentAgents: options.concurrency ?? agents,
    providerGovernor,
    model,
    name: 'test-fleet',
  });
  const tasks: FleetTask[] = Array.from({ length: agents }, (_, i) => ({
    id: `task-${i + 1}`,
    input: `Agent ${i + 1}: what is a strict window?`,
  }));
  return {
    sim,
    fleet,
    tasks,
    providerGovernor,
    container,
    model,
    async close() {
      fleet.dispose();
      providerGovernor.dispose();
      await sim.close();
    },
  };
}
