// The checks of acquire and runTask options at the governor's boundary.
import { checkOptions, type OptionRule, optionRules, rule } from '@tollgate/core';
import type { AcquireOptions, RunTaskOptions } from './types.js';

const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/** The options of a call that passed none. */
const NO_OPTIONS: AcquireOptions = Object.freeze({});

const acquireRules: { readonly [K in keyof AcquireOptions]: OptionRule } = {
  timeoutMs: rule('a number of at least 0 (Infinity waits without bound)', (v) => isNumber(v) && v >= 0),
  priority: rule('a finite number', (v) => isNumber(v) && Number.isFinite(v)),
  label: rule('a string', (v) => typeof v === 'string'),
  holdUntilSettled: optionRules.boolean,
  signal: rule('an AbortSignal', (v) => typeof v === 'object' && v !== null && 'aborted' in v),
};

const runTaskRules: { readonly [K in keyof RunTaskOptions]: OptionRule } = {
  ...acquireRules,
  taskTimeoutMs: rule('a number greater than 0 (Infinity for no limit)', (v) => isNumber(v) && v > 0),
  cost: rule('a cost object', (v) => typeof v === 'object' && v !== null),
  stopGraceMs: rule(
    'a number of at least 0 (Infinity waits for the task to stop)',
    (v) => isNumber(v) && v >= 0,
  ),
};

/**
 * Checks the options of one `acquire` (or `waitForResources`, `tryAcquire`): a NaN
 * timeout would wait without bound and a NaN priority would jump the queue.
 * @throws InvalidArgumentError naming the option, e.g. `acquire.timeoutMs`.
 */
export function checkAcquireOptions(options: AcquireOptions | undefined, owner = 'acquire'): AcquireOptions {
  // No options is the common case: one shared empty object, nothing to check or allocate.
  if (options === undefined) return NO_OPTIONS;
  return checkOptions(owner, options, acquireRules);
}

/** Checks the options of one `runTask`; see {@link checkAcquireOptions}. */
export function checkRunTaskOptions(options: RunTaskOptions | undefined): RunTaskOptions {
  return checkOptions('runTask', options, runTaskRules);
}
