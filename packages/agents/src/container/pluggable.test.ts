import { HeuristicTokenCounter, ManualClock, TOKENS } from '@tollgate/core';
import { DistributedGovernor, type Governor, MemoryQuotaStore, ResourceGovernor } from '@tollgate/limits';
import { GovernedClient, ScriptedClient } from '@tollgate/llm-clients';
import { describe, expect, it } from 'vitest';
import type { AgentClientFactory, GovernorFactory } from '../agent/factories.js';
import { HybridAgent } from '../agent/HybridAgent.js';
import { AgentFleet } from '../fleet/AgentFleet.js';
import type { IdSource } from '../ids/IdSource.js';
import { bindAgent, createTollgateContainer } from './createTollgateContainer.js';
import { AGENT_TOKENS } from './tokens.js';

class Echo extends HybridAgent {
  readonly systemPrompt = 'Echo.';
}

function base() {
  const clock = new ManualClock();
  const provider = new ScriptedClient({ clock, script: () => ({ content: 'echo' }) });
  return { clock, provider, tokenCounter: new HeuristicTokenCounter() };
}

describe('the agents layer is pluggable', () => {
  it("keeps core's deprecated agent tokens as the very same symbols", () => {
    expect(AGENT_TOKENS.AgentDeps).toBe(TOKENS.AgentDeps);
    expect(AGENT_TOKENS.AgentGovernor).toBe(TOKENS.AgentGovernor);
    expect(AGENT_TOKENS.ToolRegistry).toBe(TOKENS.ToolRegistry);
  });

  it('numbers agent and task ids per container, whatever ran before', async () => {
    const first = () => {
      const container = bindAgent(createTollgateContainer(base()), Echo);
      return [container, container.get(Echo), container.get(Echo)] as const;
    };
    const [container, a, b] = first();
    const [, c] = first();
    expect([a.agentId, b.agentId, c.agentId]).toEqual(['agent-1', 'agent-2', 'agent-1']);
    expect((await a.executeTask('hi')).taskId).toBe('agent-1/task-1');
    expect((await a.executeTask('again')).taskId).toBe('agent-1/task-2');
    expect(container.get<IdSource>(AGENT_TOKENS.IdSource).next('agent')).toBe('agent-3');
  });

  it('gives agents built by hand distinct ids and their own task numbering', async () => {
    const { provider, clock, tokenCounter } = base();
    const [a, b] = [0, 1].map(() => new Echo({ client: provider, clock, tokenCounter }));
    expect(a!.agentId).toMatch(/^echo-[0-9a-f]{8}$/);
    expect(a!.agentId).not.toBe(b!.agentId);
    expect((await b!.executeTask('hi')).taskId).toBe(`${b!.agentId}/task-1`);
  });

  it("builds each agent's governor with the container's governor factory: a distributed one plugs in", async () => {
    const store = new MemoryQuotaStore();
    const names: string[] = [];
    const distributed: GovernorFactory = (limits, { name, clock, logger }) => {
      names.push(name);
      return new DistributedGovernor(limits, { store, quota: `agent:${name}`, clock, logger, name });
    };
    const container = bindAgent(
      createTollgateContainer({
        ...base(),
        limits: { maxRequestsPerMinute: 3 },
        governorFactory: distributed,
      }),
      Echo,
    );
    const echo = container.get(Echo);
    expect(echo.governor).toBeInstanceOf(DistributedGovernor);
    expect(names).toEqual([echo.agentId]);
    expect((await echo.executeTask('hi')).status).toBe('completed');
    const status = await (echo.governor as DistributedGovernor).refresh();
    expect(status.remaining.requestsPerMinute).toBe(2);
    echo.dispose();
    expect(echo.governor.disposed).toBe(true);
  });

  it('takes a rebound factory from the container, and any LLMClient from the client factory', async () => {
    const container = bindAgent(createTollgateContainer(base()), Echo);
    const built: Governor[] = [];
    container.rebind(AGENT_TOKENS.GovernorFactory).toConstantValue(((limits, { name, clock }) => {
      const governor = new ResourceGovernor(limits, { name: `custom:${name}`, clock });
      built.push(governor);
      return governor;
    }) satisfies GovernorFactory);
    // A bare LLMClient: no events, no stats, nothing to dispose.
    const plain: AgentClientFactory = ({ provider }) => ({
      specificationVersion: 'v1',
      provider: 'plain',
      model: 'plain-model',
      chat: (request, options) => provider.chat(request, options),
      stream: (request, options) => provider.stream(request, options),
    });
    container.rebind(AGENT_TOKENS.AgentClientFactory).toConstantValue(plain);
    const echo = container.get(Echo);
    expect(built).toEqual([echo.governor]);
    expect(echo.governor.name).toBe(`custom:${echo.agentId}`);
    expect(echo.client).not.toBeInstanceOf(GovernedClient);
    const result = await echo.executeTask('hi');
    expect(result).toMatchObject({ status: 'completed', output: 'echo', llmCalls: 1 });
    expect(() => echo.dispose()).not.toThrow();
  });

  it("builds a fleet's layer 1 with its governor factory, over the fleet's limits, and reports a plain client's zero retries", async () => {
    const { provider, clock, tokenCounter } = base();
    let limitsSeen: unknown;
    const fleet = new AgentFleet({
      clock,
      startsPerMinute: 5,
      maxConcurrentAgents: 2,
      governorFactory: (limits, context) => {
        limitsSeen = limits;
        return new ResourceGovernor(limits, { ...context, name: `shared:${context.name}` });
      },
      createAgent: () =>
        new Echo({
          client: provider,
          clock,
          tokenCounter,
          clientFactory: ({ provider: inner }) => inner,
        }),
    });
    expect(fleet.governor.name).toBe('shared:fleet');
    expect(limitsSeen).toMatchObject({
      maxConcurrentTasks: 2,
      rates: [{ resource: 'agentStarts', limit: 5, windowMs: 60_000 }],
    });
    const report = await fleet.run([{ id: 't1', input: 'hi' }]);
    expect(report.totals).toMatchObject({ succeeded: 1, retries: 0, rateLimited: 0 });
    expect(report.limits.find((l) => l.name === 'agentStartsPerMinute')?.governor).toBe('shared:fleet');
    fleet.dispose();
    expect(fleet.governor.disposed).toBe(true);
  });

  it('refuses a factory that is not a function, naming it', () => {
    const { provider } = base();
    expect(() => new Echo({ client: provider, governorFactory: 'resource' as never })).toThrow(
      /governorFactory/,
    );
    expect(() => createTollgateContainer({ provider, clientFactory: {} as never })).toThrow(/clientFactory/);
    expect(
      () => new AgentFleet({ createAgent: () => undefined as never, governorFactory: 1 as never }),
    ).toThrow(/governorFactory/);
  });
});
