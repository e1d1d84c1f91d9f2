// The option rule for a timer's duration, bounded by what a Node timer supports.
import { rule } from '@tollgate/core';

/** The longest delay a Node timer supports, in ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration that timers are armed with: more than 0 and at most {@link MAX_TIMER_MS}. */
export const timerMs = rule(
  `a number of ms greater than 0 and at most ${MAX_TIMER_MS}`,
  (v) => typeof v === 'number' && v > 0 && v <= MAX_TIMER_MS,
);
