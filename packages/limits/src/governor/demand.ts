// What a cost demands of a governor's limits, and the reasons a demand waits or never fits.
import { InvalidArgumentError } from '@tollgate/core';
import { limitMask } from './limitMask.js';
import type { ResourceCost } from './types.js';
import { MAX_BITS } from './WaitQueue.js';

/** The name under which the concurrency limit refuses, in errors and events. */
export const TASK_LIMIT = 'concurrentTasks';

/** What a cost asks of a set of rates: an amount per rate, in their order, and slots. */
export interface Demand {
  readonly cost: ResourceCost;
  readonly amounts: number[];
  readonly slots: number;
}

/** A demand with the bit mask of the limits it touches (queue ordering). */
export interface QueuedDemand extends Demand {
  readonly mask: number;
}

/** Why a demand cannot be admitted now. */
export interface Blocker {
  readonly limit: string;
  readonly requested: number;
  /** Never below 0 (a debt shows as nothing available). */
  readonly available: number;
  /** Until it fits: `Infinity` never, `undefined` when it waits for an event (a slot freeing). */
  readonly waitMs: number | undefined;
  readonly reason: string;
}

/** A limit a demand can never pass, however long it waits. */
export interface NeverFits {
  readonly limit: string;
  readonly requested: number;
  readonly available: number;
  readonly reason: string;
}

/**
 * Reads a cost against `rates` (in order). Every amount must be a finite number of at least
 * 0; `task` is a boolean or a whole number of slots. Resources no rate limits are checked
 * and otherwise ignored.
 *
 * @throws InvalidArgumentError naming the offending key.
 */
export function parseDemand(cost: ResourceCost, rates: ReadonlyArray<{ readonly resource: string }>): Demand {
  const slots = slotsOf(cost);
  return { cost, amounts: amountsOf(cost, rates), slots };
}

/**
 * {@link parseDemand} with the demand's queue mask (see `limitMask`), in one object: the
 * form every acquire of an in-process governor parses its cost into.
 *
 * @throws InvalidArgumentError naming the offending key.
 */
export function parseQueuedDemand(
  cost: ResourceCost,
  rates: ReadonlyArray<{ readonly resource: string }>,
  slotsGated: boolean,
): QueuedDemand {
  const slots = slotsOf(cost);
  const amounts = amountsOf(cost, rates);
  return { cost, amounts, slots, mask: limitMask(amounts, slots, slotsGated) };
}

/** Checks every amount of `cost`; the slots it asks for. */
function slotsOf(cost: ResourceCost): number {
  if (typeof cost !== 'object' || cost === null) throw new InvalidArgumentError('cost', 'an object', cost);
  let slots = 0;
  for (const key in cost) {
    const value = cost[key];
    if (value === undefined) continue;
    if (key === 'task' && typeof value === 'boolean') {
      slots = value ? 1 : 0;
      continue;
    }
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new InvalidArgumentError(`cost.${key}`, 'a finite number of at least 0', value);
    }
    if (key === 'task') {
      if (!Number.isInteger(value))
        throw new InvalidArgumentError('cost.task', 'a whole number of slots or a boolean', value);
      slots = value;
    }
  }
  return slots;
}

/** The amount of `cost` per rate, in the rates' order (0 where the cost does not say). */
function amountsOf(cost: ResourceCost, rates: ReadonlyArray<{ readonly resource: string }>): number[] {
  const amounts = new Array<number>(rates.length);
  for (let i = 0; i < rates.length; i++) {
    const amount = cost[rates[i]!.resource];
    amounts[i] = typeof amount === 'number' ? amount : 0;
  }
  return amounts;
}

/** The first limit `demand` can never pass: more slots than exist, or more than a rate's capacity. */
export function neverFits(
  demand: Pick<Demand, 'amounts' | 'slots'>,
  rates: ReadonlyArray<{ readonly name: string; readonly capacity: number }>,
  maxSlots: number,
): NeverFits | undefined {
  if (demand.slots > maxSlots) {
    return {
      limit: TASK_LIMIT,
      requested: demand.slots,
      available: maxSlots,
      reason: `${TASK_LIMIT}: ${demand.slots} slots requested, only ${maxSlots} exist`,
    };
  }
  for (let i = 0; i < rates.length; i++) {
    const rate = rates[i]!;
    const amount = demand.amounts[i]!;
    if (amount > rate.capacity) {
      return {
        limit: rate.name,
        requested: amount,
        available: rate.capacity,
        reason: `${rate.name}: ${amount} requested, more than its capacity of ${rate.capacity} (it can never fit; split the request or raise the limit)`,
      };
    }
  }
  return undefined;
}

/**
 * Checks that `count` rates fit the wait queue's masks (a bit each, plus two).
 * @throws InvalidArgumentError when there are more.
 */
export function checkRateCount(count: number): void {
  if (count > MAX_BITS - 2)
    throw new InvalidArgumentError('rates', `at most ${MAX_BITS - 2} rate limits`, count);
}

/** Why a task waits for a slot, in the same words on every governor. */
export function slotsReason(used: number, max: number): string {
  return `${TASK_LIMIT}: ${used} of ${max} slots in use`;
}

/** The last reason `rateReason` made, kept for the next caller that needs the same words. */
const lastRateReason: {
  name: string;
  requested: number;
  available: number;
  fitsMs: number | undefined;
  text: string;
} = { name: '', requested: Number.NaN, available: Number.NaN, fitsMs: Number.NaN, text: '' };

/** Why a rate blocks a demand; `available` shows as at least 0 (a debt is "0 available"). */
export function rateReason(name: string, requested: number, available: number, waitMs?: number): string {
  const shown = Math.max(0, Math.floor(available));
  const fitsMs = waitMs === undefined || !Number.isFinite(waitMs) ? undefined : Math.ceil(waitMs);
  // A burst of callers held back by one rate gets the same words: one string for all of them
  // (each waiter keeps its reason), not a new one each.
  const last = lastRateReason;
  if (
    last.name === name &&
    last.requested === requested &&
    last.available === shown &&
    last.fitsMs === fitsMs
  )
    return last.text;
  const fits = fitsMs === undefined ? '' : `, fits in ${fitsMs} ms`;
  const text = `${name}: ${requested} requested, ${shown} available${fits}`;
  last.name = name;
  last.requested = requested;
  last.available = shown;
  last.fitsMs = fitsMs;
  last.text = text;
  return text;
}

/** Why nobody is admitted during a cooldown. */
export function cooldownReason(waitMs: number, why: string): string {
  return `cooling down for ${Math.ceil(waitMs)} ms (${why})`;
}
