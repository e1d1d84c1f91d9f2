// Option checking at the boundary: reusable rules and checkOptions, which throws InvalidArgumentError.
import { InvalidArgumentError } from '../errors/errors.js';

/** One rule an option must pass: a test and what it expects, for the error message. */
export interface OptionRule {
  /** What the option must be, as the error states it ("a finite number greater than 0"). */
  readonly expected: string;
  readonly test: (value: unknown) => boolean;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/** Reusable rules for constructor options; combine with {@link rule}. */
export const optionRules = {
  positive: {
    expected: 'a finite number greater than 0',
    test: (v) => isNumber(v) && v > 0 && Number.isFinite(v),
  },
  nonNegative: {
    expected: 'a finite number of at least 0',
    test: (v) => isNumber(v) && v >= 0 && Number.isFinite(v),
  },
  positiveInt: {
    expected: 'an integer greater than 0',
    test: (v) => Number.isInteger(v) && (v as number) > 0,
  },
  nonNegativeInt: {
    expected: 'an integer of at least 0',
    test: (v) => Number.isInteger(v) && (v as number) >= 0,
  },
  /** A share: greater than 0 and at most 1. */
  fraction: { expected: 'a number in (0, 1]', test: (v) => isNumber(v) && v > 0 && v <= 1 },
  /** A probability or ratio: 0 to 1 inclusive. */
  ratio: { expected: 'a number in [0, 1]', test: (v) => isNumber(v) && v >= 0 && v <= 1 },
  boolean: { expected: 'a boolean', test: (v) => typeof v === 'boolean' },
  function: { expected: 'a function', test: (v) => typeof v === 'function' },
  string: { expected: 'a non-empty string', test: (v) => typeof v === 'string' && v.length > 0 },
} satisfies Record<string, OptionRule>;

/** A rule from a test and what it expects. */
export function rule(expected: string, test: (value: unknown) => boolean): OptionRule {
  return { expected, test };
}

/** A rule passed by any of `values` (compared with `===`). */
export function oneOf(...values: readonly unknown[]): OptionRule {
  return rule(values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(' or '), (v) =>
    values.includes(v),
  );
}

/** A rule for a number within `[min, max]` (either end may be infinite). */
export function numberIn(min: number, max: number, what = 'a number'): OptionRule {
  return rule(`${what} from ${min} to ${max}`, (v) => isNumber(v) && v >= min && v <= max);
}

/** One option that failed its rule. */
export interface OptionIssue {
  readonly option: string;
  readonly expected: string;
  readonly received: unknown;
}

/**
 * Checks `options` against `rules`: every option present (not `undefined`) must pass its
 * rule. Throws one {@link InvalidArgumentError} naming the first option at fault as
 * `owner.option`, with every issue in its message and in `issues`. Returns `options`
 * (or `{}` when it is `undefined`), so a constructor can check and keep in one line.
 *
 * @example
 * const opts = checkOptions('CircuitBreaker', options, {
 *   failureThreshold: optionRules.positiveInt,
 *   resetMs: optionRules.positive,
 * });
 */
export function checkOptions<T extends object>(
  owner: string,
  options: T | undefined,
  rules: { readonly [K in keyof T]?: OptionRule },
): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(owner, 'an options object', options);
  }
  const issues: OptionIssue[] = [];
  for (const key of Object.keys(rules) as Array<keyof T & string>) {
    const value = options[key];
    const check = rules[key];
    if (value === undefined || check === undefined) continue;
    if (!check.test(value))
      issues.push({ option: `${owner}.${key}`, expected: check.expected, received: value });
  }
  if (issues.length > 0) throw InvalidArgumentError.fromIssues(issues);
  return options;
}
