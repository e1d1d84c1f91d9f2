// Small rules every governor applies the same way: settle reports, provider feedback, the memory cap, the queue, the approaching threshold.
import { InvalidArgumentError } from '@tollgate/core';
import type { MemoryProbe } from '../memory/MemoryProbe.js';
import type { RateView } from './Admission.js';
import type { Blocker } from './demand.js';
import type { EventBody } from './EventHub.js';
import type { ActualUsage } from './types.js';

/**
 * Checks a settle's usage report: every amount given is a finite number of at least 0.
 * @throws InvalidArgumentError naming the resource, e.g. `actual.tokens`.
 */
export function checkActualUsage(actual: ActualUsage): void {
  for (const resource in actual) {
    const value = actual[resource];
    if (value !== undefined && !(value >= 0 && Number.isFinite(value)))
      throw new InvalidArgumentError(`actual.${resource}`, 'a finite number of at least 0', value);
  }
}

/**
 * How long ago a hold ends as of (`GovernorLease.endHold(agoMs)`): `agoMs` clamped to
 * `[0, heldMs]`, where `heldMs` is the time since the grant, so no value (negative, huge,
 * `Infinity`) can count a reservation from before the grant or after now. `undefined` is 0.
 * @throws InvalidArgumentError when `agoMs` is not a number, or is NaN.
 */
export function holdAgoMs(agoMs: number | undefined, heldMs: number): number {
  if (agoMs === undefined) return 0;
  if (typeof agoMs !== 'number' || Number.isNaN(agoMs))
    throw new InvalidArgumentError('agoMs', 'a number of milliseconds (clamped to the time held)', agoMs);
  return Math.min(Math.max(0, agoMs), Math.max(0, heldMs));
}

/** The index of the shortest-window rate on `resource` (what provider feedback speaks of), or -1. */
export function shortestRate(rates: readonly RateView[], resource: string): number {
  let best = -1;
  for (let i = 0; i < rates.length; i++) {
    const rate = rates[i]!;
    if (rate.resource === resource && (best < 0 || rate.windowMs < rates[best]!.windowMs)) best = i;
  }
  return best;
}

/** Why `slots` cannot be taken now for memory (this process's own), if so. */
export function memoryBlocker(
  maxMb: number | undefined,
  probe: MemoryProbe | undefined,
  slots: number,
): Blocker | undefined {
  if (maxMb === undefined || !probe) return undefined;
  const used = probe.usageMb();
  if (used <= maxMb) return undefined;
  return {
    limit: 'memory',
    requested: slots,
    available: Math.max(0, maxMb - used),
    waitMs: probe.refreshMs,
    reason: `memory: ${used.toFixed(0)} MB in use, cap ${maxMb} MB`,
  };
}

/** Why new work is refused behind `waiting` callers (reject mode): they go first. */
export function queueBlocker(waiting: number): Blocker {
  return {
    limit: 'queue',
    requested: 1,
    available: 0,
    waitMs: undefined,
    reason: `${waiting} caller(s) waiting first`,
  };
}

/** The `limit-approaching` event when a take moved `rate`'s usage across `ratio` of its capacity. */
export function approaching(
  rate: RateView,
  availableBefore: number,
  availableAfter: number,
  ratio: number,
): EventBody | undefined {
  const threshold = ratio * rate.capacity;
  const usedBefore = rate.capacity - availableBefore;
  const used = rate.capacity - availableAfter;
  if (usedBefore >= threshold || used < threshold) return undefined;
  return {
    type: 'limit-approaching',
    limit: rate.name,
    used,
    max: rate.capacity,
    ratio: used / rate.capacity,
  };
}
