import { HeuristicTokenCounter, InvalidArgumentError, type Logger, ManualClock } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { ScriptedClient } from '@tollgate/llm-clients';
import { config } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HybridAgent } from './agent/HybridAgent.js';
import { Consensus } from './consensus/Consensus.js';
import { AgentFleet } from './fleet/AgentFleet.js';
import { FleetProgress } from './fleet/FleetProgress.js';
import type { FleetTask } from './fleet/types.js';

class Worker extends HybridAgent {
  readonly systemPrompt = 'Work.';
}

const counter = new HeuristicTokenCounter();

function fleetWith(clock: ManualClock, options: Partial<ConstructorParameters<typeof AgentFleet>[0]> = {}) {
  const client = new ScriptedClient({
    clock,
    tokenCounter: counter,
    script: () => ({ content: 'done', usage: { promptTokens: 80, completionTokens: 20 } }),
  });
  return new AgentFleet({
    clock,
    createAgent: () => new Worker({ client, clock, tokenCounter: counter }),
    ...options,
  });
}

const tasks = (n: number): FleetTask[] =>
  Array.from({ length: n }, (_, i) => ({ id: `t${i + 1}`, input: 'go' }));

function thrown(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    if (InvalidArgumentError.is(error)) return error;
    throw error;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('options are validated where they enter', () => {
  const clock = new ManualClock();

  it('AgentFleet names every option out of range, budget ratios included', () => {
    const error = thrown(() => fleetWith(clock, { maxConcurrentAgents: 0, startsPerMinute: Number.NaN }));
    expect(error.issues.map((i) => i.option)).toEqual([
      'AgentFleet.startsPerMinute',
      'AgentFleet.maxConcurrentAgents',
    ]);
    expect(thrown(() => fleetWith(clock, { budget: { maxTokens: 1_000, warnAt: 1.5 } })).message).toBe(
      'Expected `AgentFleet.budget.warnAt` to be a number in (0, 1], got 1.5 (number)',
    );
    expect(
      thrown(() => fleetWith(clock, { estimate: { promptTokens: -1, completionTokens: 5 } })).argument,
    ).toBe('AgentFleet.estimate.promptTokens');
    expect(thrown(() => fleetWith(clock, { startAlgorithm: 'slidingwindow' as never })).argument).toBe(
      'AgentFleet.startAlgorithm',
    );
  });

  it('FleetProgress rejects intervals that are not positive and a stream without write()', () => {
    const fleet = fleetWith(clock);
    expect(thrown(() => new FleetProgress(fleet, { intervalMs: 0 })).argument).toBe(
      'FleetProgress.intervalMs',
    );
    expect(thrown(() => new FleetProgress(fleet, { plainIntervalMs: -5 })).argument).toBe(
      'FleetProgress.plainIntervalMs',
    );
    expect(thrown(() => new FleetProgress(fleet, { stream: {} as never })).argument).toBe(
      'FleetProgress.stream',
    );
  });

  it('Consensus rejects a quorum below 1 and an unknown tie break', () => {
    const client = new ScriptedClient({ clock, tokenCounter: counter, script: [{ content: 'x' }] });
    const agents = [new Worker({ client, clock, tokenCounter: counter })];
    expect(thrown(() => new Consensus({ agents, quorum: 0 })).argument).toBe('Consensus.quorum');
    expect(thrown(() => new Consensus({ agents, tieBreak: 'coin' as never })).argument).toBe(
      'Consensus.tieBreak',
    );
  });

  it('HybridAgent checks its deps at construction and its settings before the first task', async () => {
    const client = new ScriptedClient({ clock, tokenCounter: counter, script: [{ content: 'x' }] });
    expect(thrown(() => new Worker({ client, agentId: '' })).argument).toBe('Worker.agentId');
    class Eager extends HybridAgent {
      readonly systemPrompt = 'Work.';
      override readonly maxIterations = 0;
      override readonly toolTimeoutMs = Number.NaN;
    }
    const agent = new Eager({ client, clock, tokenCounter: counter });
    const result = await agent.executeTask('go');
    expect(result.status).toBe('failed');
    expect(InvalidArgumentError.is(result.error)).toBe(true);
    expect((result.error as InvalidArgumentError).issues.map((i) => i.option)).toEqual([
      'Eager.maxIterations',
      'Eager.toolTimeoutMs',
    ]);
    expect(client.calls).toHaveLength(0);
  });
});

describe("the fleet's own subscribers never throw into a stream", () => {
  const unhandled: unknown[] = [];
  let previous: typeof config.onUnhandledError;
  beforeEach(() => {
    previous = config.onUnhandledError;
    unhandled.length = 0;
    config.onUnhandledError = (error) => unhandled.push(error);
  });
  afterEach(() => {
    config.onUnhandledError = previous;
  });

  it('a progress stream whose write throws is logged, and the run completes', async () => {
    const clock = new ManualClock();
    const fleet = fleetWith(clock, { budget: { maxTokens: 10_000, warnAt: 0.01 } });
    const errors: string[] = [];
    const logger = { ...quiet, error: (message: string) => errors.push(message) };
    const progress = new FleetProgress(fleet, {
      clock,
      logger,
      tty: false,
      plainIntervalMs: 100,
      stream: {
        write: () => {
          throw new Error('EPIPE');
        },
      },
    }).start();
    const pending = fleet.run(tasks(2));
    await clock.advanceAsync(100);
    const report = await pending;
    progress.stop();
    expect(report.totals.succeeded).toBe(2);
    await rxjsReports();
    expect(unhandled).toEqual([]);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((m) => m === 'FleetProgress threw; ignored')).toBe(true);
  });

  it("a logger that throws inside the fleet's watch of an agent is contained", async () => {
    const clock = new ManualClock();
    const throwing: Logger = {
      ...quiet,
      warn: () => {
        throw new Error('log sink down');
      },
    };
    const provider = new ResourceGovernor({ maxRequestsPerMinute: 100 }, { clock, name: 'provider' });
    const fleet = fleetWith(clock, {
      logger: throwing,
      providerGovernor: provider,
      budget: { maxTokens: 10_000, warnAt: 0.01 },
    });
    const report = await fleet.run(tasks(2));
    expect(report.stopReason).toBe('completed');
    expect(report.totals.succeeded).toBe(2);
    await rxjsReports();
    expect(unhandled).toEqual([]);
  });
});

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** RxJS reports a subscriber's error on a later macrotask; this lets it arrive. */
function rxjsReports(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
