// parseResourceLimits: ResourceLimits in camel or snake case, checked and resolved.
import { InvalidLimitsError, type LimitsIssue } from '@tollgate/core';
import { z } from 'zod';
import { closestName } from './closestName.js';
import {
  BUILTIN_RATES,
  type BuiltinRateName,
  builtinAlgorithm,
  DEFAULT_LIMITS,
  defaultRateName,
  MAX_DURATION_MS,
  type ParsedResourceLimits,
  type ResourceLimits,
  resolveRates,
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
const MAX_SECONDS = MAX_DURATION_MS / 1000;
const timeoutSeconds: FieldRule = {
  schema: z.number().positive().max(MAX_SECONDS),
  expected: `a number greater than 0 and at most ${MAX_SECONDS} (366 days)`,
};
const waitSeconds: FieldRule = {
  schema: z.custom<number>(
    (v) => typeof v === 'number' && v >= 0 && (v <= MAX_SECONDS || v === Number.POSITIVE_INFINITY),
  ),
  expected: `a number from 0 to ${MAX_SECONDS} (366 days), or Infinity to wait without bound`,
};
/** The most `windowPaddingMs` may add: padding absorbs network jitter, not whole windows. */
const MAX_PADDING_MS = 60_000;
const bool: FieldRule = { schema: z.boolean(), expected: 'a boolean' };
const ALGORITHMS = ['token-bucket', 'sliding-window'] as const;
const algorithm: FieldRule = {
  schema: z.enum(ALGORITHMS),
  expected: "'token-bucket' or 'sliding-window'",
};
const builtinNames = [
  'requestsPerMinute',
  'requestsPerDay',
  'tokensPerMinute',
  'tokensPerHour',
  'toolCallsPerMinute',
  'toolCallsPerHour',
  'inputTokensPerMinute',
  'outputTokensPerMinute',
] as const satisfies readonly BuiltinRateName[];

const rateSpec = z.strictObject({
  name: z.string().min(1).optional(),
  resource: z.string().min(1),
  limit: z.number().positive().finite(),
  windowMs: z.number().positive().max(MAX_DURATION_MS),
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
  maxInputTokensPerMinute: positive,
  inputTokenBurstSize: atLeastOne,
  maxOutputTokensPerMinute: positive,
  outputTokenBurstSize: atLeastOne,
  maxMemoryMb: positive,
  taskTimeoutSeconds: timeoutSeconds,
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
    expected: `an array of { resource: string, limit > 0, windowMs > 0 and <= ${MAX_DURATION_MS} (366 days), burst? >= 1, algorithm?, name? } (no other keys)`,
  },
  timeScale: positive,
  windowPaddingMs: {
    schema: z.number().min(0).max(MAX_PADDING_MS),
    expected: `a number from 0 to ${MAX_PADDING_MS}`,
  },
};

/** The option names of `ResourceLimits`. */
export const LIMIT_FIELDS = Object.keys(FIELDS) as ReadonlyArray<keyof ResourceLimits>;

/** `maxTokensPerMinute` -> `max_tokens_per_minute`. */
export function toSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const BY_SNAKE = new Map(LIMIT_FIELDS.map((f) => [toSnakeCase(f), f]));

/** What `parseResourceLimits` returned (deeply frozen, so still valid): passed through as they are. */
const PARSED = new WeakSet<object>();

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
  if (typeof input === 'object' && input !== null && PARSED.has(input)) return input as ParsedResourceLimits;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidLimitsError([{ field: '(limits)', expected: 'an object', received: input }]);
  }
  const issues: LimitsIssue[] = [];
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(input)) {
    const key = (FIELDS as Record<string, FieldRule>)[rawKey] ? rawKey : BY_SNAKE.get(rawKey);
    if (!key) {
      const hint = closestName(rawKey, LIMIT_FIELDS);
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
          expected: sub ? `valid (${issue.message})` : withHint(rule.expected, key, value),
          received: sub ? pathValue(value, issue.path) : value,
        });
      }
    }
  }
  checkCombinations(out as ResourceLimits, issues);
  if (issues.length > 0) throw new InvalidLimitsError(issues);
  if (out.rates) out.rates = Object.freeze((out.rates as object[]).map((rate) => Object.freeze(rate)));
  if (out.algorithms) Object.freeze(out.algorithms);
  const limits = Object.freeze({ ...DEFAULT_LIMITS, ...out });
  PARSED.add(limits);
  return limits as ParsedResourceLimits;
}

/** `expected`, with the algorithm a misspelt one most likely meant (`slidingwindow`). */
function withHint(expected: string, key: string, value: unknown): string {
  const hint = key === 'algorithm' && typeof value === 'string' ? closestName(value, ALGORITHMS) : undefined;
  return hint ? `${expected} (did you mean '${hint}'?)` : expected;
}

const UNITS: Readonly<Record<string, string>> = {
  requests: 'request',
  tokens: 'token',
  toolCalls: 'tool call',
  inputTokens: 'input token',
  outputTokens: 'output token',
};

/** Options that are valid alone but, together, would be ignored or could never admit anything. */
function checkCombinations(limits: ResourceLimits, issues: LimitsIssue[]): void {
  checkBuiltinRates(limits, issues);
  checkCustomRates(limits, issues);
  if (limits.rejectOnLimit === true && limits.enforceLimits === false) {
    issues.push({
      field: 'rejectOnLimit',
      expected:
        'false or unset while `enforceLimits` is false (monitor mode never blocks, so it never rejects; set `enforceLimits: true` to reject)',
      received: true,
    });
  }
  // Only a time scale below 1 can stretch a valid window past the maximum.
  const longest = resolveRates(limits).find((rate) => rate.windowMs > MAX_DURATION_MS);
  if (longest && (limits.timeScale ?? 1) < 1) {
    issues.push({
      field: 'timeScale',
      expected: `large enough that every window stays within ${MAX_DURATION_MS} ms (366 days; \`${longest.name}\` would last ${longest.windowMs} ms)`,
      received: limits.timeScale,
    });
  }
}

function checkBuiltinRates(limits: ResourceLimits, issues: LimitsIssue[]): void {
  for (const rate of BUILTIN_RATES) {
    const limit = limits[rate.limit] as number | undefined;
    const burst = rate.burst && (limits[rate.burst] as number | undefined);
    if (rate.burst && burst !== undefined) {
      if (limit === undefined) {
        issues.push({
          field: rate.burst,
          expected: `set only together with \`${rate.limit}\``,
          received: burst,
        });
        continue;
      }
      if (builtinAlgorithm(limits, rate.name) === 'sliding-window') {
        issues.push({
          field: rate.burst,
          expected: `unset while \`${rate.name}\` is a 'sliding-window' rate (a window admits exactly its limit; bursts belong to 'token-bucket')`,
          received: burst,
        });
        continue;
      }
    }
    if (limit === undefined || (burst ?? limit) >= 1) continue;
    const unit = UNITS[rate.resource] ?? rate.resource;
    issues.push({
      field: rate.limit,
      expected: `at least 1${rate.burst ? `, or given with \`${rate.burst}\` of at least 1` : ''} (a rate whose capacity is below 1 ${unit} can never admit one)`,
      received: limit,
    });
  }
}

function checkCustomRates(limits: ResourceLimits, issues: LimitsIssue[]): void {
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
