import { InvalidArgumentError, ManualClock } from '@tollgate/core';
import { type Observable, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AgentFleet } from './AgentFleet.js';
import { FleetProgress } from './FleetProgress.js';
import type { FleetEvent } from './types.js';

/** A fleet as FleetProgress sees it: its events and a provider limited to `rpm` requests a minute. */
function fakeFleet(rpm: number) {
  const events = new Subject<FleetEvent>();
  const limits = { rpm: { resource: 'requests', limit: rpm, windowMs: 60_000 } };
  const fleet = {
    events$: events as Observable<FleetEvent>,
    providerGovernor: { checkResourceAvailability: () => ({ limits, queued: 0 }) },
  } as unknown as AgentFleet;
  const emit = (at: number, event: Record<string, unknown>) =>
    events.next({ at, fleet: 'f', ...event } as unknown as FleetEvent);
  const call = (at: number) =>
    emit(at, { type: 'agent', event: { type: 'llm-call', usage: { totalTokens: 10 } } });
  const finish = (at: number, llmCalls: number) =>
    emit(at, { type: 'task-finished', result: { ok: true, llmCalls } });
  return { fleet, emit, call, finish };
}

const etaOf = (line: string) => /ETA ([^|]+)/.exec(line)?.[1]?.trim();
const stream = { write: () => true };

describe('FleetProgress ETA', () => {
  it('is the calls left over the request rate, from the first call and steady while no task finishes', () => {
    const clock = new ManualClock();
    const { fleet, emit, call } = fakeFleet(6);
    const progress = new FleetProgress(fleet, { clock, stream, callsPerTask: 3 }).start();
    emit(0, { type: 'run-started', tasks: 10, estimate: undefined });
    expect(etaOf(progress.line())).toBe('5m 0s'); // 30 calls at 6 a minute
    for (let i = 0; i < 6; i++) call(clock.now());
    clock.advance(20_000);
    expect(etaOf(progress.line())).toBe('4m 0s'); // 24 left
    clock.advance(40_000); // time passes, no call made: the ETA does not swing
    expect(etaOf(progress.line())).toBe('4m 0s');
    progress.stop();
  });

  it('takes the calls per task from the finished tasks when not given', () => {
    const clock = new ManualClock();
    const { fleet, emit, call, finish } = fakeFleet(6);
    const progress = new FleetProgress(fleet, { clock, stream }).start();
    emit(0, { type: 'run-started', tasks: 4, estimate: undefined });
    expect(etaOf(progress.line())).toBeUndefined();
    call(0);
    call(0);
    finish(0, 2);
    clock.advance(30_000);
    expect(etaOf(progress.line())).toBe('1m 0s'); // 4 tasks x 2 calls - 2 made = 6 at 6 a minute
    progress.stop();
  });

  it('refuses callsPerTask below 1', () => {
    const { fleet } = fakeFleet(6);
    expect(() => new FleetProgress(fleet, { stream, callsPerTask: 0 })).toThrow(InvalidArgumentError);
  });
});
