import {
  type Clock,
  checkOptions,
  InvalidArgumentError,
  type Logger,
  oneOf,
  optionRules,
  rule,
  silentLogger,
  systemClock,
} from '@tollgate/core';
import type { MemoryProbe } from '../memory/MemoryProbe.js';
import type { DistributedGovernorOptions, StoreDownPolicy } from './DistributedGovernor.js';
import type { QuotaStore } from './QuotaStore.js';
import { MAX_TIMER_MS, timerMs } from './timerMs.js';

/** The options of a `DistributedGovernor`, checked, with every default filled in. */
export interface ResolvedDistributedOptions {
  readonly store: QuotaStore;
  readonly quota: string;
  readonly onStoreDown: StoreDownPolicy;
  readonly localShare: number;
  readonly slotTtlMs: number;
  readonly holdTtlMs: number;
  readonly recoveryHoldMs: number;
  readonly jitterMs: number;
  readonly batchSize: number;
  readonly retryMs: number;
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random: () => number;
  readonly memoryProbe: MemoryProbe | undefined;
}

const hasMethods =
  (...names: string[]) =>
  (v: unknown) =>
    typeof v === 'object' &&
    v !== null &&
    names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function');

/** A `Clock`: `now`, `setTimeout` and `clearTimeout`. */
export const clockRule = rule('a Clock', hasMethods('now', 'setTimeout', 'clearTimeout'));

const RULES = {
  store: rule('a QuotaStore', hasMethods('acquire', 'settle', 'release', 'renew', 'subscribe')),
  quota: rule('a non-empty name without { or }', (v) => typeof v === 'string' && /^[^{}]+$/.test(v)),
  onStoreDown: oneOf('fail-closed', 'fail-open', 'local-fallback'),
  localShare: optionRules.fraction,
  slotTtlMs: timerMs,
  holdTtlMs: timerMs,
  recoveryHoldMs: rule(
    `a number of ms from 0 to ${MAX_TIMER_MS}`,
    (v) => typeof v === 'number' && v >= 0 && v <= MAX_TIMER_MS,
  ),
  jitterMs: rule('a number of ms from 0 to 60000', (v) => typeof v === 'number' && v >= 0 && v <= 60_000),
  batchSize: optionRules.positiveInt,
  retryMs: timerMs,
  name: optionRules.string,
  clock: clockRule,
  logger: rule('a Logger', hasMethods('warn', 'info', 'error')),
  random: optionRules.function,
  memoryProbe: rule('a MemoryProbe', hasMethods('usageMb')),
} as const;

/** Checks a `DistributedGovernor`'s options (every problem at once) and fills in the defaults. */
export function resolveDistributedOptions(options: DistributedGovernorOptions): ResolvedDistributedOptions {
  const checked = checkOptions('DistributedGovernor', options, RULES);
  for (const required of ['store', 'quota'] as const)
    if (checked[required] === undefined)
      throw new InvalidArgumentError(`DistributedGovernor.${required}`, RULES[required].expected, undefined);
  const {
    onStoreDown = 'fail-closed',
    localShare = 0.25,
    slotTtlMs = 10_000,
    holdTtlMs = 120_000,
    recoveryHoldMs = 0,
    jitterMs = 3,
    batchSize = 64,
    retryMs = 500,
    name = 'distributed',
    clock = systemClock,
    logger = silentLogger,
    random = Math.random,
    memoryProbe,
  } = checked;
  return {
    store: checked.store,
    quota: checked.quota,
    onStoreDown,
    localShare,
    slotTtlMs,
    holdTtlMs,
    recoveryHoldMs,
    jitterMs,
    batchSize,
    retryMs,
    name,
    clock,
    logger,
    random,
    memoryProbe,
  };
}
