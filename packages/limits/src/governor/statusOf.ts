// Builds a governor's status snapshot: the same shape and rounding whatever the admission.
import type { RateView } from './Admission.js';
import type { LimitStatus, ResourceStatus } from './types.js';

/** What a status says besides the rates. */
export type StatusParts = Omit<
  ResourceStatus,
  'at' | 'available' | 'reason' | 'remaining' | 'limits' | 'maxTasks'
>;

/**
 * The status at `now`: `reason` is why the asked cost would not be admitted (`undefined`:
 * it would), the rates' remaining amounts come from `source`.
 */
export function statusOf(
  source: {
    readonly rates: readonly RateView[];
    readonly maxSlots: number;
    available(index: number, now: number): number;
  },
  now: number,
  reason: string | undefined,
  parts: StatusParts,
): ResourceStatus {
  const limits: Record<string, LimitStatus> = {};
  const remaining: Record<string, number> = {};
  source.rates.forEach((rate, i) => {
    const left = Math.max(0, source.available(i, now));
    remaining[rate.name] = Math.floor(left);
    const { resource, limit, windowMs, capacity, algorithm } = rate;
    limits[rate.name] = { resource, limit, windowMs, capacity, algorithm, remaining: left };
  });
  return {
    governor: parts.governor,
    at: now,
    available: reason === undefined,
    ...(reason === undefined ? {} : { reason }),
    mode: parts.mode,
    activeTasks: parts.activeTasks,
    maxTasks: Number.isFinite(source.maxSlots) ? source.maxSlots : null,
    queued: parts.queued,
    remaining,
    limits,
    memoryUsageMb: parts.memoryUsageMb,
    memoryLimitMb: parts.memoryLimitMb,
    cooldownUntil: parts.cooldownUntil,
  };
}
