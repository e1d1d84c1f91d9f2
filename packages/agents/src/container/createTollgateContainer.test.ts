import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeuristicTokenCounter, InvalidLimitsError, ManualClock, TOKENS } from '@tollgate/core';
import {
  DistributedGovernor,
  MemoryQuotaStore,
  type ResourceGovernor,
  resourceLimitsFromFile,
} from '@tollgate/limits';
import { ScriptedClient } from '@tollgate/llm-clients';
import { inject } from 'inversify';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { agent } from '../agent/agentDecorator.js';
import { HybridAgent } from '../agent/HybridAgent.js';
import type { AgentDeps } from '../agent/types.js';
import { defineTool } from '../tools/defineTool.js';
import { bindAgent, createTollgateContainer } from './createTollgateContainer.js';

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks a word up',
  parameters: z.object({ word: z.string() }),
  execute: ({ word }) => `${word}: a gate where a toll is paid`,
});

class Glossary extends HybridAgent {
  readonly systemPrompt = 'Define words with the lookup tool.';
  override readonly tools = ['lookup'];
}

const GREETING = Symbol.for('test.Greeting');

@agent()
class Greeter extends HybridAgent {
  readonly systemPrompt = 'Greet.';
  constructor(
    @inject(TOKENS.AgentDeps) deps: AgentDeps,
    @inject(GREETING) readonly greeting: string,
  ) {
    super(deps);
  }
}

function base() {
  const clock = new ManualClock();
  const provider = new ScriptedClient({
    clock,
    script: (request) =>
      request.messages.some((m) => m.role === 'tool')
        ? { content: 'A tollgate is a gate where a toll is paid.' }
        : { toolCalls: [{ name: 'lookup', arguments: { word: 'tollgate' } }] },
  });
  return { clock, provider, tokenCounter: new HeuristicTokenCounter(), tools: [lookup] };
}

describe('createTollgateContainer', () => {
  it('gives each agent its own governor and every agent the one provider governor', async () => {
    const container = createTollgateContainer({
      ...base(),
      limits: { maxConcurrentTasks: 2, maxToolCallsPerMinute: 30 },
      providerLimits: { maxRequestsPerMinute: 7 },
    });
    bindAgent(container, Glossary);
    const a = container.get(Glossary);
    const b = container.get(Glossary);
    expect(a).not.toBe(b);
    expect(a.agentId).not.toBe(b.agentId);
    expect(a.governor).not.toBe(b.governor);
    expect(a.providerGovernor).toBeDefined();
    expect(a.providerGovernor).toBe(b.providerGovernor);
    expect(a.providerGovernor).toBe(container.get(TOKENS.ProviderGovernor));
    expect(a.governor.limits.maxToolCallsPerMinute).toBe(30);

    const [ra, rb] = await Promise.all([a.executeTask('Define tollgate'), b.executeTask('Define toll')]);
    expect(ra.output).toBe('A tollgate is a gate where a toll is paid.');
    expect(rb.status).toBe('completed');
    expect(ra.tools.map((t) => t.name)).toEqual(['lookup']);
    // Four calls in all went through the one provider quota.
    const provider = container.get<ResourceGovernor>(TOKENS.ProviderGovernor);
    expect(provider.checkResourceAvailability().remaining.requestsPerMinute).toBe(3);
  });

  it('takes per-deployment overrides from the environment, validated, for both layers', () => {
    const container = createTollgateContainer({
      ...base(),
      limits: { maxConcurrentTasks: 2 },
      providerLimits: { maxRequestsPerMinute: 500 },
      env: {
        TOLLGATE_MAX_CONCURRENT_TASKS: '4',
        TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE: '7',
        TOLLGATE_PROVIDER_MAX_TOKENS_PER_MINUTE: '40000',
      },
    });
    bindAgent(container, Glossary);
    const glossary = container.get(Glossary);
    expect(glossary.governor.limits.maxConcurrentTasks).toBe(4);
    expect(glossary.providerGovernor?.limits).toMatchObject({
      maxRequestsPerMinute: 7,
      maxTokensPerMinute: 40_000,
    });
    expect(() =>
      createTollgateContainer({ ...base(), env: { TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE: 'seven' } }),
    ).toThrow(/TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE/);
    expect(() => createTollgateContainer({ ...base(), limits: { maxConcurrentTasks: -1 } })).toThrow(
      InvalidLimitsError,
    );
  });

  it('validates env overrides merged over the given limits (no way past the range checks)', () => {
    const rejects = (env: Record<string, string>, variable: string) => {
      const error = (() => {
        try {
          createTollgateContainer({ ...base(), providerLimits: { maxRequestsPerMinute: 60 }, env });
        } catch (e) {
          return e;
        }
      })();
      expect(InvalidLimitsError.is(error)).toBe(true);
      expect((error as InvalidLimitsError).field).toBe(variable);
      expect((error as InvalidLimitsError).message).not.toMatch(/parsed/);
    };
    rejects({ TOLLGATE_MAX_CONCURRENT_TASKS: '-3' }, 'TOLLGATE_MAX_CONCURRENT_TASKS');
    rejects({ TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE: '-1' }, 'TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE');
    rejects({ TOLLGATE_PROVIDER_ALGORITHM: 'slidingwindow' }, 'TOLLGATE_PROVIDER_ALGORITHM');
    rejects(
      { TOLLGATE_PROVIDER_RATES: '{"resource":"x","limit":1,"windowMs":1000}' },
      'TOLLGATE_PROVIDER_RATES',
    );
    rejects({ TOLLGATE_MAX_REQUEST_PER_MINUTE: '10' }, 'TOLLGATE_MAX_REQUEST_PER_MINUTE');
  });

  it('lists environment variables that set nothing once, through its logger', () => {
    const warn = vi.fn();
    createTollgateContainer({
      ...base(),
      logger: { debug: vi.fn(), info: vi.fn(), warn, error: vi.fn() },
      env: {
        TOLLGATE_DEMO_AGENTS: '50',
        TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE: '7',
        TOLLGATE_PROVIDER_REGION: 'eu',
      },
    });
    expect(warn.mock.calls.map((call) => call[1])).toEqual([
      { prefix: 'TOLLGATE_', variables: ['TOLLGATE_DEMO_AGENTS'] },
      { prefix: 'TOLLGATE_PROVIDER_', variables: ['TOLLGATE_PROVIDER_REGION'] },
    ]);
  });

  it('takes limits from a YAML file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-'));
    const file = join(dir, 'limits.yaml');
    await writeFile(file, 'resource_limits:\n  max_concurrent_tasks: 3\n  max_tool_calls_per_minute: 12\n');
    const container = createTollgateContainer({ ...base(), limits: await resourceLimitsFromFile(file) });
    bindAgent(container, Glossary);
    expect(container.get(Glossary).governor.limits).toMatchObject({
      maxConcurrentTasks: 3,
      maxToolCallsPerMinute: 12,
    });
  });

  it('resolves @agent() subclasses bound with toSelf, with their own injected parameters', async () => {
    const container = createTollgateContainer(base());
    container.bind(GREETING).toConstantValue('hello');
    container.bind(Greeter).toSelf();
    const greeter = container.get(Greeter);
    expect(greeter.greeting).toBe('hello');
    expect(greeter.providerGovernor).toBe(container.get(TOKENS.ProviderGovernor));
    expect((await greeter.executeTask('hi')).status).toBe('completed');
  });

  it('fails initialization clearly when an agent names a tool nobody registered', async () => {
    const { tools: _tools, ...rest } = base();
    const container = bindAgent(createTollgateContainer(rest), Glossary);
    const glossary = container.get(Glossary);
    await expect(glossary.initialize()).rejects.toThrow(/names of tools in the shared registry.*lookup/s);
  });

  it('keeps the provider quota in a shared store when given one: two containers, one quota', async () => {
    const store = new MemoryQuotaStore();
    const make = () =>
      bindAgent(
        createTollgateContainer({
          ...base(),
          providerLimits: { maxRequestsPerMinute: 5, algorithm: 'sliding-window' },
          providerStore: { store, quota: 'openai:test' },
        }),
        Glossary,
      );
    const [one, two] = [make(), make()];
    const a = one.get(Glossary);
    const b = two.get(Glossary);
    expect(a.providerGovernor).toBeInstanceOf(DistributedGovernor);
    expect(a.providerGovernor).not.toBe(b.providerGovernor);
    expect(one.get(TOKENS.QuotaStore)).toBe(store);
    await Promise.all([a.executeTask('one'), b.executeTask('two')]);
    // Each task made two calls; all four came out of the one shared quota.
    const status = await (b.providerGovernor as DistributedGovernor).refresh();
    expect(status.remaining.requestsPerMinute).toBe(1);
  });

  it('rejects a missing provider with a typed error', () => {
    expect(() => createTollgateContainer({} as never)).toThrow(/provider/);
  });
});
