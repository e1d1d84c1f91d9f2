import { type Inspectable, livenessView } from '../governor/liveness.js';

/**
 * What is wrong with a governor's liveness at clock time `now`, or `undefined` when it is
 * live: whenever callers wait and the governor is not disposed, every front waiter (the
 * head, and each waiter that needs no limit an earlier waiter needs, since nobody it must
 * wait behind is ahead of it) can be admitted now (a store call is deciding it) or a
 * wake-up is armed for, at the latest, the moment it can; a front waiting for a slot has a
 * release or a wake-up to come.
 *
 * Which limits a waiter needs comes from its cost, not from the admission's queue order,
 * so a governor that holds a waiter behind one it shares no limit with is caught too.
 */
export function livenessProblem(governor: Inspectable, now: number): string | undefined {
  const view = governor[livenessView]();
  if (view.disposed || view.waiting === 0 || view.busy) return undefined;
  const { wakeAt } = view;
  // Waits are whole milliseconds, rounded up: a wake-up within 1 ms of the moment is on time.
  const onTime = (moment: number) => wakeAt !== undefined && wakeAt <= moment + 1;
  for (const { position, waitMs } of view.fronts) {
    const who = position === 0 ? 'the head' : `waiter ${position} (it shares no limit with anyone ahead)`;
    if (waitMs === 0 && !onTime(now))
      return `${view.waiting} waiting and ${who} fits now, but nobody admitted it`;
    if (waitMs === Number.POSITIVE_INFINITY) {
      if (view.activeTasks === 0 && wakeAt === undefined)
        return `${who} waits for a slot, and no slot is held and no wake-up armed`;
    } else if (wakeAt === undefined) return `${view.waiting} waiting and no wake-up armed`;
    else if (waitMs !== undefined && !onTime(now + waitMs))
      return `the wake-up at ${wakeAt} comes after ${who} fits at ${now + waitMs}`;
  }
  return undefined;
}
