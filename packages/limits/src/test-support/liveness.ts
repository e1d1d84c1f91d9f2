import { type Inspectable, livenessView } from '../governor/liveness.js';

/**
 * What is wrong with a governor's liveness at clock time `now`, or `undefined` when it is
 * live: whenever callers wait and the governor is not disposed, the head can be admitted
 * now (a store call is deciding it) or a wake-up is armed for, at the latest, the moment
 * it can; a head waiting for a slot has a release to come.
 */
export function livenessProblem(governor: Inspectable, now: number): string | undefined {
  const view = governor[livenessView]();
  if (view.disposed || view.waiting === 0 || view.busy) return undefined;
  const { headWaitMs, wakeAt } = view;
  // Waits are whole milliseconds, rounded up: a wake-up within 1 ms of the moment is on time.
  const onTime = (moment: number) => wakeAt !== undefined && wakeAt <= moment + 1;
  if (headWaitMs === 0 && !onTime(now))
    return `${view.waiting} waiting and the head fits now, but nobody admitted it`;
  if (headWaitMs === Number.POSITIVE_INFINITY) {
    if (view.activeTasks > 0 || wakeAt !== undefined) return undefined;
    return 'the head waits for a slot, and no slot is held and no wake-up armed';
  }
  if (wakeAt === undefined) return `${view.waiting} waiting and no wake-up armed`;
  if (headWaitMs !== undefined && !onTime(now + headWaitMs))
    return `the wake-up at ${wakeAt} comes after the head fits at ${now + headWaitMs}`;
  return undefined;
}
