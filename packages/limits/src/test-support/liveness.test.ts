import { describe, expect, it } from 'vitest';
import { type LivenessView, livenessView } from '../governor/liveness.js';
import { livenessProblem } from './liveness.js';

const SLOT = 1 << 1;
const REQUESTS = 1 << 0;

function governorShowing(view: Partial<LivenessView>) {
  const full: LivenessView = {
    disposed: false,
    waiting: view.fronts?.length ?? 0,
    wakeAt: undefined,
    headWaitMs: undefined,
    activeTasks: 0,
    busy: false,
    footprint: 0,
    fronts: [],
    ...view,
  };
  return { [livenessView]: () => full };
}

describe('livenessProblem', () => {
  it('finds a waiter that shares no limit with the head, fits now and is not admitted', () => {
    const governor = governorShowing({
      activeTasks: 1,
      wakeAt: 60_000,
      fronts: [
        { position: 0, needs: SLOT, waitMs: Number.POSITIVE_INFINITY },
        { position: 1, needs: REQUESTS, waitMs: 0 },
      ],
    });
    expect(livenessProblem(governor, 0)).toMatch(/waiter 1 .* fits now, but nobody admitted it/);
  });

  it('lets the head wait for a slot while one is held', () => {
    const fronts = [{ position: 0, needs: SLOT, waitMs: Number.POSITIVE_INFINITY }];
    expect(livenessProblem(governorShowing({ activeTasks: 1, fronts }), 0)).toBeUndefined();
    expect(livenessProblem(governorShowing({ fronts }), 0)).toMatch(/no slot is held/);
  });

  it('wants a wake-up by the time each front waiter fits', () => {
    const fronts = [
      { position: 0, needs: SLOT, waitMs: Number.POSITIVE_INFINITY },
      { position: 3, needs: REQUESTS, waitMs: 500 },
    ];
    expect(livenessProblem(governorShowing({ activeTasks: 1, wakeAt: 500, fronts }), 0)).toBeUndefined();
    expect(livenessProblem(governorShowing({ activeTasks: 1, wakeAt: 900, fronts }), 0)).toMatch(
      /wake-up at 900 comes after waiter 3/,
    );
    expect(livenessProblem(governorShowing({ activeTasks: 1, fronts }), 0)).toMatch(/no wake-up armed/);
  });

  it('says nothing while a store call is deciding, or once disposed', () => {
    const fronts = [{ position: 0, needs: REQUESTS, waitMs: 0 }];
    expect(livenessProblem(governorShowing({ busy: true, fronts }), 0)).toBeUndefined();
    expect(livenessProblem(governorShowing({ disposed: true, fronts }), 0)).toBeUndefined();
    expect(livenessProblem(governorShowing({ fronts }), 0)).toMatch(/the head fits now/);
  });
});
