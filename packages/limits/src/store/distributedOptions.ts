// The options of the distributed governor: their defaults and their checks.
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
import type { QuotaStore } from './QuotaStore.js';
import type { StoreDownPolicy } from './storeOutage.js';
import { MAX_TIMER_MS, timerMs } from './timerMs.js';

/** Options of `DistributedGovernor`, checked by its constructor. */
export interface DistributedGovernorOptions {
  readonly store: QuotaStore;
  /** The shared quota's name: every process using it must give the same name and limits. No `{` or `}`. */
  readonly quota: string;
  /** @default 'fail-closed' */
  readonly onStoreDown?: StoreDownPolicy | undefined;
  /** Share of each limit enforced locally under `local-fallback` (e.g. 1 / number of processes). In (0, 1]. @default 0.25 */
  readonly localShare?: number | undefined;
  /** A slot whose process stops renewing it is free after this long. Greater than 0, at most 2^31-1. @default 10_000 */
  readonly slotTtlMs?: number | undefined;
  /** A held reservation whose process died counts from this long after it was taken. Greater than 0, at most 2^31-1. @default 120_000 */
  readonly holdTtlMs?: number | undefined;
  /** See `QuotaConfig.recoveryHoldMs`. From 0 to 2^31-1. @default 0 */
  readonly recoveryHoldMs?: number | undefined;
  /** Added to each computed wait, so processes woken together do not all retry at once. From 0 to 60_000. @default 3 */
  readonly jitterMs?: number | undefined;
  /**
   * How far ahead the store may grant a call the sliding windows keep out (see
   * `QuotaConfig.deferMs`): a waiter asks this much / 2 before the window lets it in and
   * starts on its own timer at that instant, with no round trip after it. 0 asks only once
   * it fits; a governor with `rejectOnLimit` always uses 0 (it refuses at once, never makes a
   * caller wait). From 0 to 60_000. @default 50
   */
  readonly deferMs?: number | undefined;
  /** Waiters sent to the store in one call. An integer, at least 1. @default 64 */
  readonly batchSize?: number | undefined;
  /** How often a down store is probed. Greater than 0, at most 2^31-1. @default 500 */
  readonly retryMs?: number | undefined;
  /** @default 'distributed' */
  readonly name?: string | undefined;
  /** Local timers (waits, timeouts, renewals). The store keeps its own clock. @default systemClock */
  readonly clock?: Clock | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** @default Math.random */
  readonly random?: (() => number) | undefined;
  /**
   * Reads this process's memory for `maxMemoryMb` (memory is each process's own, never
   * shared). @default a ProcessMemoryProbe when `maxMemoryMb` is set
   */
  readonly memoryProbe?: MemoryProbe | undefined;
}

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
  readonly deferMs: number;
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
  deferMs: rule('a number of ms from 0 to 60000', (v) => typeof v === 'number' && v >= 0 && v <= 60_000),
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
    deferMs = 50,
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
    deferMs,
    batchSize,
    retryMs,
    name,
    clock,
    logger,
    random,
    memoryProbe,
  };
}
