import { InvalidLimitsError, type LimitsIssue } from '@tollgate/core';
import { z } from 'zod';
import {
  BURST_OPTIONS,
  type BuiltinRateName,
  DEFAULT_LIMITS,
  defaultRateName,
  type ParsedResourceLimits,
  type ResourceLimits,
} from './ResourceLimits.js';

interface FieldRule {
  readonly schema: z.ZodType;
  readonly expected: string;
}

const positive: FieldRule = {
  schema: z.number().positive().finite(),
  expected: 'a finite number greater than 0',
};
const positiveInt: FieldRule = { schema: z.number().int().positive(), expected: 'an integer greater than 0' };
const atLeastOne: FieldRule = {
  schema: z.number().finite().min(1),
  expected: 'a finite number of at least 1',
};
const waitSeconds: FieldRule = {
  schema: z.custom<number>((v) => typeof v === 'number' && v >= 0),
  expected: 'a number of at least 0 (Infinity waits without bound)',
};
const bool: FieldRule = { schema: z.boolean(), expected: 'a boolean' };
const algorithm: FieldRule = {
  schema: z.enum(['token-bucket', 'sliding-window']),
  expected: "'token-bucket' or 'sliding-window'",
};
const builtinNames = [
  'requestsPerMinute',
  'requestsPerDay',
  'tokensPerMinute',
  'tokensPerHour',
  'toolCallsPerMinute',
  'toolCallsPerHour',
] as const satisfies readonly BuiltinRateName[];

const rateSpec = z.strictObject({
  name: z.string().min(1).optional(),
  resource: z.string().min(1),
  limit: z.number().positive().finite(),
  windowMs: z.number().positive().finite(),
  burst: z.number().finite().min(1).optional(),
  algorithm: algorithm.schema.optional(),
});

/** Validation rule of every `ResourceLimits` field. */
const FIELDS: Readonly<Record<keyof ResourceLimits, FieldRule>> = {
  maxConcurrentTasks: positiveInt,
  maxRequestsPerMinute: positive,
  maxRequestsPerDay: positive,
  maxTokensPerMinute: positive,
  maxTokensPerHour: positive,
  tokenBurstSize: atLeastOne,
  requestBurstSize: atLeastOne,
  maxToolCallsPerMinute: positive,
  maxToolCallsPerHour: positive,
  toolCallBurstSize: atLeastOne,
  maxMemoryMb: positive,
  taskTimeoutSeconds: positive,
  resourceWaitTimeoutSeconds: waitSeconds,
  enforceLimits: bool,
  rejectOnLimit: bool,
  algorithm,
  algorithms: {
    schema: z.partialRecord(z.enum(builtinNames), algorithm.schema),
    expected: `an object mapping ${builtinNames.join(' | ')} to ${algorithm.expected}`,
  },
  rates: {
    schema: z.array(rateSpec),
    expected:
      'an array of { resource: string, limit > 0, windowMs > 0, burst? >= 1, algorithm?, name? } (no other keys)',
  },
  timeScale: positive,
  windowPaddingMs: { schema: z.number().finite().min(0), expected: 'a finite number of at least 0' },
};

/** The option names of `ResourceLimits`. */
export const LIMIT_FIELDS = Object.keys(FIELDS) as ReadonlyArray<keyof ResourceLimits>;

/** `maxTokensPerMinute` -> `max_tokens_per_minute`. */
export function toSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const BY_SNAKE = new Map(LIMIT_FIELDS.map((f) => [toSnakeCase(f), f]));

function closest(name: string): string | undefined {
  const lower = name.toLowerCase().replace(/[_-]/g, '');
  return LIMIT_FIELDS.find((f) => f.toLowerCase() === lower);
}

function pathValue(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[key];
  return v;
}

/**
 * Validates limits from code, a config file or env, accepting camelCase or the seeds'
 * snake_case names, and returns them normalised with defaults applied.
 *
 * @throws InvalidLimitsError naming every field at fault, what it must be and what it was.
 * @example
 * const limits = parseResourceLimits({ max_concurrent_tasks: 5, maxTokensPerMinute: 10_000 });
 */
export function parseResourceLimits(input: unknown): ParsedResourceLimits {
  if (typeof input === 'object' && input !== null && (input as { __parsed?: unknown }).__parsed === true) {
    return input as ParsedResourceLimits;
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidLimitsError([{ field: '(limits)', expected: 'an object', received: input }]);
  }
  const issues: LimitsIssue[] = [];
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(input)) {
    const key = (FIELDS as Record<string, FieldRule>)[rawKey] ? rawKey : BY_SNAKE.get(rawKey);
    if (!key) {
      const hint = closest(rawKey);
      issues.push({
        field: rawKey,
        expected: hint ? `a known option (did you mean \`${hint}\`?)` : 'a known option',
        received: value,
      });
      continue;
    }
    if (value === undefined || value === null) continue;
    if (key in out) {
      issues.push({ field: rawKey, expected: `given once (it duplicates \`${key}\`)`, received: value });
      continue;
    }
    const rule = FIELDS[key as keyof ResourceLimits];
    const result = rule.schema.safeParse(value);
    if (result.success) {
      out[key] = result.data;
    } else {
      for (const issue of result.error.issues) {
        const sub = issue.path.length > 0 ? `.${issue.path.map(String).join('.')}` : '';
        issues.push({
          field: `${rawKey}${sub}`,
          expected: sub ? `valid (${issue.message})` : rule.expected,
          received: sub ? pathValue(value, issue.path) : value,
        });
      }
    }
  }
  checkCombinations(out as ResourceLimits, issues);
  if (issues.length > 0) throw new InvalidLimitsError(issues);
  return Object.freeze({ ...DEFAULT_LIMITS, ...out, __parsed: true }) as ParsedResourceLimits;
}

function checkCombinations(limits: ResourceLimits, issues: LimitsIssue[]): void {
  for (const [burst, limit] of BURST_OPTIONS) {
    if (limits[burst] !== undefined && limits[limit] === undefined) {
      issues.push({ field: burst, expected: `set only together with \`${limit}\``, received: limits[burst] });
    }
  }
  const names = new Set<string>(builtinNames);
  for (const [i, rate] of (limits.rates ?? []).entries()) {
    const name = rate.name ?? defaultRateName(rate);
    if (names.has(name)) {
      issues.push({
        field: `rates.${i}.name`,
        expected: `a unique rate name ('${name}' is taken)`,
        received: name,
      });
    }
    names.add(name);
    const algo = rate.algorithm ?? limits.algorithm ?? DEFAULT_LIMITS.algorithm;
    if (rate.burst !== undefined && algo === 'sliding-window') {
      issues.push({
        field: `rates.${i}.burst`,
        expected: 'unset for a sliding-window rate (a window admits exactly its limit)',
        received: rate.burst,
      });
    }
  }
}
