import {
  HeuristicTokenCounter,
  InvalidArgumentError,
  InvalidLimitsError,
  ManualClock,
  TiktokenCounter,
  TOKENS,
} from '@tollgate/core';
import type { Governor, ResourceGovernor } from '@tollgate/limits';
import { anthropic, gemini, ScriptedClient } from '@tollgate/llm-clients';
import { describe, expect, it } from 'vitest';
import { HybridAgent } from '../agent/HybridAgent.js';
import { agentDepsFor, bindAgent, createTollgateContainer } from './createTollgateContainer.js';
import type { ProviderSet } from './providers.js';
import { AGENT_TOKENS } from './tokens.js';

class Analyst extends HybridAgent {
  readonly systemPrompt = 'Answer in one line.';
}
class Writer extends HybridAgent {
  readonly systemPrompt = 'Write one line.';
}

function scripted(clock: ManualClock, model: string) {
  return new ScriptedClient({ clock, model, script: () => ({ content: `from ${model}` }) });
}

function twoProviders() {
  const clock = new ManualClock();
  const fast = scripted(clock, 'fast-model');
  const careful = scripted(clock, 'careful-model');
  const container = createTollgateContainer({
    clock,
    tokenCounter: new HeuristicTokenCounter(),
    limits: { maxConcurrentTasks: 2 },
    providers: {
      fast: { client: fast, limits: { maxRequestsPerMinute: 10 } },
      careful: { client: careful, limits: { maxRequestsPerMinute: 3 } },
    },
  });
  return { clock, fast, careful, container };
}

describe('a container with several providers', () => {
  it('gives each provider one governor of its own limits, shared by that provider’s agents', async () => {
    const { fast, careful, container } = twoProviders();
    bindAgent(container, Analyst);
    bindAgent(container, { provider: 'careful' }, Writer);
    const [a1, a2] = [container.get(Analyst), container.get(Analyst)];
    const [w1, w2] = [container.get(Writer), container.get(Writer)];
    expect(a1.providerGovernor).toBe(a2.providerGovernor);
    expect(w1.providerGovernor).toBe(w2.providerGovernor);
    expect(a1.providerGovernor).not.toBe(w1.providerGovernor);
    // The first provider is the default, and the container's TOKENS.ProviderGovernor.
    expect(a1.providerGovernor).toBe(container.get(TOKENS.ProviderGovernor));
    expect(container.get(TOKENS.LLMClient)).toBe(fast);
    expect(a1.providerGovernor?.limits.maxRequestsPerMinute).toBe(10);
    expect(w1.providerGovernor?.limits.maxRequestsPerMinute).toBe(3);

    const results = await Promise.all(
      [a1, a2, w1, w2].map((agent) => agent.executeTask('Why share a quota?')),
    );
    expect(results.map((r) => r.output)).toEqual([
      'from fast-model',
      'from fast-model',
      'from careful-model',
      'from careful-model',
    ]);
    expect(fast.calls).toHaveLength(2);
    expect(careful.calls).toHaveLength(2);
    // Each provider's calls came out of its own quota only.
    const remaining = (g: Governor | undefined) =>
      (g as ResourceGovernor).checkResourceAvailability().remaining.requestsPerMinute;
    expect(remaining(a1.providerGovernor)).toBe(8);
    expect(remaining(w1.providerGovernor)).toBe(1);
  });

  it('picks a provider per agent by name with agentDepsFor, and names the providers for an unknown one', async () => {
    const { careful, container } = twoProviders();
    const agent = new Writer(agentDepsFor(container, 'careful'));
    expect(agent.providerGovernor).toBe(
      container.get<ProviderSet>(AGENT_TOKENS.Providers).governor('careful'),
    );
    expect((await agent.executeTask('hello')).output).toBe('from careful-model');
    expect(careful.calls).toHaveLength(1);
    expect(new Writer(agentDepsFor(container)).providerGovernor).toBe(container.get(TOKENS.ProviderGovernor));
    const unknown = (() => {
      try {
        agentDepsFor(container, 'cheap');
      } catch (error) {
        return error;
      }
    })();
    expect(InvalidArgumentError.is(unknown)).toBe(true);
    expect((unknown as Error).message).toMatch(/fast, careful.*cheap/s);
    bindAgent(container, { provider: 'cheap' }, Analyst);
    expect(() => container.get(Analyst)).toThrow(/cheap/);
  });

  it('takes a default provider by name, and each provider’s overrides from TOLLGATE_PROVIDER_<NAME>_*', () => {
    const clock = new ManualClock();
    const container = createTollgateContainer({
      clock,
      tokenCounter: new HeuristicTokenCounter(),
      providers: {
        openai: { client: scripted(clock, 'a'), limits: { maxRequestsPerMinute: 500 } },
        'anthropic-eu': { client: scripted(clock, 'b'), limits: { maxOutputTokensPerMinute: 8_000 } },
      },
      defaultProvider: 'anthropic-eu',
      env: {
        TOLLGATE_PROVIDER_OPENAI_MAX_REQUESTS_PER_MINUTE: '7',
        TOLLGATE_PROVIDER_ANTHROPIC_EU_MAX_OUTPUT_TOKENS_PER_MINUTE: '4000',
      },
    });
    const set = container.get<ProviderSet>(AGENT_TOKENS.Providers);
    expect(set.names).toEqual(['openai', 'anthropic-eu']);
    expect(container.get<Governor>(TOKENS.ProviderGovernor)).toBe(set.governor('anthropic-eu'));
    expect(set.governor('openai').limits.maxRequestsPerMinute).toBe(7);
    expect(set.governor('anthropic-eu').limits.maxOutputTokensPerMinute).toBe(4_000);
    expect(() =>
      createTollgateContainer({
        providers: { openai: { client: scripted(clock, 'a') } },
        env: { TOLLGATE_PROVIDER_OPENAI_MAX_REQUESTS_PER_MINUTE: 'seven' },
      }),
    ).toThrow(/TOLLGATE_PROVIDER_OPENAI_MAX_REQUESTS_PER_MINUTE/);
    // A variable for the single provider sets nothing here: an error, not a silent no-op.
    expect(() =>
      createTollgateContainer({
        providers: { openai: { client: scripted(clock, 'a') } },
        env: { TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE: '7' },
      }),
    ).toThrow(/TOLLGATE_PROVIDER_OPENAI_\*/);
  });

  it('estimates with each client’s estimator unless a provider brings its own counter', () => {
    const clock = new ManualClock();
    const own = new HeuristicTokenCounter();
    const shared = new HeuristicTokenCounter();
    const container = createTollgateContainer({
      clock,
      tokenCounter: shared,
      providers: {
        openai: { client: scripted(clock, 'a') },
        anthropic: {
          client: anthropic({ model: 'claude-x', apiKey: 'sk-ant-test', baseURL: 'http://127.0.0.1:9' }),
        },
        gemini: { client: gemini({ model: 'gemini-x', apiKey: 'AIza-test', baseURL: 'http://127.0.0.1:9' }) },
        mine: { client: scripted(clock, 'b'), tokenCounter: own },
      },
    });
    const counter = (name: string) => agentDepsFor(container, name).tokenCounter;
    expect(counter('openai')).toBe(shared);
    expect(counter('mine')).toBe(own);
    expect(counter('anthropic')).not.toBe(shared);
    expect(counter('anthropic')).toBe(counter('anthropic'));
    expect(counter('gemini')).not.toBe(counter('anthropic'));
    // The margin estimators: tiktoken's count and then some.
    const text = [{ role: 'user' as const, content: 'How many tokens is this sentence, roughly?' }];
    const tiktoken = new TiktokenCounter().countMessages(text);
    expect(counter('anthropic')!.countMessages(text)).toBeGreaterThanOrEqual(Math.ceil(tiktoken * 1.1));
    expect(counter('gemini')!.countMessages(text)).toBe(Math.ceil(tiktoken * 1.1));
  });

  it('gives each provider its client options and its own circuit breaker', () => {
    const clock = new ManualClock();
    const container = createTollgateContainer({
      clock,
      tokenCounter: new HeuristicTokenCounter(),
      client: { retry: { maxAttempts: 2 } },
      providers: {
        a: { client: scripted(clock, 'a') },
        b: { client: scripted(clock, 'b'), clientOptions: { providerCharging: 'usage' } },
      },
    });
    const [a, b] = [agentDepsFor(container, 'a'), agentDepsFor(container, 'b')];
    expect(a.clientOptions).toMatchObject({ retry: { maxAttempts: 2 } });
    expect(b.clientOptions).toMatchObject({ retry: { maxAttempts: 2 }, providerCharging: 'usage' });
    expect(a.clientOptions?.circuitBreaker).toBeTruthy();
    expect(a.clientOptions?.circuitBreaker).not.toBe(b.clientOptions?.circuitBreaker);
    expect(agentDepsFor(container, 'a').clientOptions?.circuitBreaker).toBe(a.clientOptions?.circuitBreaker);
  });

  it('disposes every provider governor with the container', async () => {
    const { container } = twoProviders();
    const set = container.get<ProviderSet>(AGENT_TOKENS.Providers);
    const governors = [set.governor('fast'), set.governor('careful')];
    await container.unbindAll();
    expect(governors.map((g) => g.disposed)).toEqual([true, true]);
  });

  it('rejects what cannot be a set of providers with typed errors naming the option', () => {
    const clock = new ManualClock();
    const client = scripted(clock, 'a');
    const fails = (
      options: object,
      pattern: RegExp,
      type: { is(e: unknown): boolean } = InvalidArgumentError,
    ) => {
      const error = (() => {
        try {
          createTollgateContainer(options as never);
        } catch (e) {
          return e;
        }
      })();
      expect(type.is(error), String(error)).toBe(true);
      expect((error as Error).message).toMatch(pattern);
    };
    fails({ providers: {} }, /providers/);
    fails({ providers: { a: { client } }, provider: client }, /`provider`.*left out/s);
    fails({ providers: { a: { client } }, providerLimits: {} }, /providerLimits/);
    fails({ providers: { a: { client } }, defaultProvider: 'b' }, /defaultProvider.*one of a/s);
    fails({ providers: { a: {} } }, /providers\.a\.client/);
    fails({ providers: { '9lives': { client } } }, /providers/);
    fails({ providers: { 'a-b': { client }, a_b: { client } } }, /TOLLGATE_PROVIDER_A_B_/);
    fails({ providers: { a: { client, tokenCounter: {} } } }, /providers\.a.*tokenCounter/s);
    fails(
      { providers: { a: { client, limits: { maxRequestsPerMinute: -1 } } } },
      /providers\.a\.limits\.maxRequestsPerMinute/,
      InvalidLimitsError,
    );
    fails({}, /provider.*providers/s);
  });
});
