import { HeuristicTokenCounter } from '@tollgate/core';
import { type Governor, type GovernorEvent, ResourceGovernor } from '@tollgate/limits';
import { ScriptedClient } from '@tollgate/llm-clients';
import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { resourceGovernorFactory } from '../agent/factories.js';
import { HybridAgent } from '../agent/HybridAgent.js';
import { AgentFleet } from './AgentFleet.js';
import type { FleetEvent, RoundSource, RunReport } from './types.js';

class Echo extends HybridAgent {
  readonly systemPrompt = 'Echo.';
}

/** `inner`, with a count of who is subscribed to its events now (the fleet's usage meters are). */
function watched(inner: Governor): { governor: Governor; subscribers: () => number } {
  let subscribers = 0;
  const events$ = new Observable<GovernorEvent>((subscriber) => {
    subscribers++;
    const subscription = inner.events$.subscribe(subscriber);
    return () => {
      subscribers--;
      subscription.unsubscribe();
    };
  });
  const governor = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'events$') return events$;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { governor, subscribers: () => subscribers };
}

function fleetWithWatchedGovernors() {
  let fleetGovernor!: ReturnType<typeof watched>;
  const provider = watched(new ResourceGovernor({ maxRequestsPerMinute: 1_000 }, { name: 'provider' }));
  const fleet = new AgentFleet({
    createAgent: () =>
      new Echo({
        tokenCounter: new HeuristicTokenCounter(),
        client: new ScriptedClient({ script: () => ({ content: 'x' }) }),
      }),
    providerGovernor: provider.governor,
    governorFactory: (limits, context) => {
      fleetGovernor = watched(resourceGovernorFactory(limits, context));
      return fleetGovernor.governor;
    },
  });
  const subscribers = () => fleetGovernor.subscribers() + provider.subscribers();
  return { fleet, subscribers };
}

/** A source with one task in round 1 that throws (or rejects) from round 2 on. */
function failingFromRound2(how: 'throws' | 'rejects'): RoundSource {
  return {
    ready: (_limit, { round }) => {
      if (round === 1) return [{ id: 'a', input: 'x' }];
      if (how === 'rejects') return Promise.reject(new Error('task store unreachable'));
      throw new Error('task store unreachable');
    },
  };
}

describe('AgentFleet.runRounds when a task source fails', () => {
  for (const how of ['throws', 'rejects'] as const) {
    it(`(${how}) resolves with its report, as run does when its governor fails, and ends the run's meters`, async () => {
      const { fleet, subscribers } = fleetWithWatchedGovernors();
      const events: FleetEvent[] = [];
      fleet.events$.subscribe((e) => events.push(e));
      const before = subscribers();
      const outcome = await fleet
        .runRounds({
          maxRounds: 3,
          batchSize: 1,
          roles: { steady: { ready: () => [] }, flaky: failingFromRound2(how) },
        })
        .then(
          (report) => ({ report }),
          (error: Error) => ({ error: error.message }),
        );
      // The usage meters of both governors stopped watching, and the fleet said the run finished.
      expect(subscribers()).toBe(before);
      expect(events.filter((e) => e.type === 'run-finished')).toHaveLength(1);
      expect(outcome).not.toHaveProperty('error');
      const { report } = outcome as { report: RunReport };
      expect(report.stopReason).toBe('source-failed');
      expect(report.stopDetail).toBe(
        "the task source of role 'flaky' failed in round 2: task store unreachable",
      );
      expect(report.agents.map((r) => [r.taskId, r.status])).toEqual([['a', 'completed']]);
      expect(report.rounds.map((r) => r.round)).toEqual([1]);
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'dispatch-stopped', reason: 'source-failed' }),
      );
      // The fleet takes its next run.
      const next = await fleet.runRounds({
        maxRounds: 1,
        batchSize: 1,
        roles: { one: { ready: () => [{ id: 'b', input: 'x' }] } },
      });
      expect(next.stopReason).toBe('max-rounds');
      expect(subscribers()).toBe(before);
    });
  }

  it('a source that fails because the run was cancelled ends it as aborted', async () => {
    const { fleet, subscribers } = fleetWithWatchedGovernors();
    const before = subscribers();
    const controller = new AbortController();
    const report = await fleet.runRounds({
      signal: controller.signal,
      maxRounds: 3,
      batchSize: 1,
      roles: {
        cancelled: {
          ready: () => {
            controller.abort();
            throw new Error('cancelled while listing tasks');
          },
        },
      },
    });
    expect(report.stopReason).toBe('aborted');
    expect(subscribers()).toBe(before);
  });
});
