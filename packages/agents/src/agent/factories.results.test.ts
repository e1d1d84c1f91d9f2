import { HeuristicTokenCounter, InvalidArgumentError } from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import { ScriptedClient } from '@tollgate/llm-clients';
import { describe, expect, it } from 'vitest';
import { AgentFleet } from '../fleet/AgentFleet.js';
import {
  type AgentClientFactory,
  type GovernorFactory,
  ownedByAgent,
  resourceGovernorFactory,
} from './factories.js';
import { HybridAgent } from './HybridAgent.js';

class Echo extends HybridAgent {
  readonly systemPrompt = 'Echo.';
}
const tokenCounter = new HeuristicTokenCounter();
const provider = () => new ScriptedClient({ script: () => ({ content: 'echo' }) });

describe('factories returning junk or throwing', () => {
  it('an agent whose clientFactory returns undefined fails with a typed InvalidArgumentError', () => {
    const clientFactory = (() => undefined) as unknown as AgentClientFactory;
    expect(() => new Echo({ client: provider(), tokenCounter, clientFactory })).toThrow(InvalidArgumentError);
    expect(() => new Echo({ client: provider(), tokenCounter, clientFactory })).toThrow(
      /clientFactory.*undefined/,
    );
  });

  it('an agent whose clientFactory returns something without chat() is refused at construction', () => {
    const clientFactory = (() => ({})) as unknown as AgentClientFactory;
    // Today it is accepted, and every task then fails with "host.client.chat is not a function".
    expect(() => new Echo({ client: provider(), tokenCounter, clientFactory })).toThrow(InvalidArgumentError);
  });

  it('a fleet whose governorFactory returns undefined is refused at construction', () => {
    const governorFactory = (() => undefined) as unknown as GovernorFactory;
    expect(
      () =>
        new AgentFleet({
          createAgent: () => new Echo({ client: provider(), tokenCounter }),
          governorFactory,
        }),
    ).toThrow(/governorFactory.*undefined/);
  });

  it('the governor the agent built is disposed when its clientFactory throws', () => {
    let built: Governor | undefined;
    const governorFactory: GovernorFactory = (limits, context) => {
      built = resourceGovernorFactory(limits, context);
      return built;
    };
    const clientFactory: AgentClientFactory = () => {
      throw new Error('client factory failed');
    };
    expect(() => new Echo({ client: provider(), tokenCounter, governorFactory, clientFactory })).toThrow(
      'client factory failed',
    );
    expect(built?.disposed).toBe(true);
  });

  it("a client's non-numeric stats do not corrupt the fleet report's totals", async () => {
    const clientFactory: AgentClientFactory = ({ provider: inner }) =>
      Object.assign(Object.create(inner), { stats: { retries: 'many', rateLimited: Number.NaN } });
    const fleet = new AgentFleet({
      createAgent: () => new Echo({ client: provider(), tokenCounter, clientFactory }),
    });
    const report = await fleet.run([{ id: 'a', input: 'x' }]);
    expect(Number.isFinite(report.totals.retries)).toBe(true);
    expect(Number.isFinite(report.totals.rateLimited)).toBe(true);
  });
});

describe('a client shared through clientFactory', () => {
  it('is not disposed by the first agent disposed: later agents still see its events', async () => {
    const { GovernedClient } = await import('@tollgate/llm-clients');
    const { ResourceGovernor } = await import('@tollgate/limits');
    const governor = new ResourceGovernor({});
    const shared = new GovernedClient(provider(), {
      governors: [governor],
      providerGovernor: governor,
      tokenCounter,
    });
    const clientFactory: AgentClientFactory = () => shared;
    new Echo({ client: provider(), tokenCounter, clientFactory }).dispose();
    const second = new Echo({ client: provider(), tokenCounter, clientFactory });
    const seen: string[] = [];
    second.events$.subscribe((e) => seen.push(e.type));
    await second.executeTask('hi');
    expect(seen).toContain('client');
    governor.dispose();
  });

  it('is disposed with its agent when the factory marks it ownedByAgent, as the default factory does', async () => {
    const { GovernedClient } = await import('@tollgate/llm-clients');
    const byDefault = new Echo({ client: provider(), tokenCounter });
    expect(byDefault.client).toBeInstanceOf(GovernedClient);
    let completed = false;
    byDefault.client.events$?.subscribe({ complete: () => (completed = true) });
    byDefault.dispose();
    expect(completed).toBe(true);
    let disposed = 0;
    const own: AgentClientFactory = ({ provider: inner }) =>
      ownedByAgent(Object.assign(Object.create(inner), { dispose: () => disposed++ }));
    new Echo({ client: provider(), tokenCounter, clientFactory: own }).dispose();
    expect(disposed).toBe(1);
  });
});
