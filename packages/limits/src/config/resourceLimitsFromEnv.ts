import { InvalidLimitsError, type LimitsIssue } from '@tollgate/core';
import { LIMIT_FIELDS, parseResourceLimits, toSnakeCase } from './parseResourceLimits.js';
import type { ParsedResourceLimits } from './ResourceLimits.js';

const BOOLEAN_FIELDS = new Set(['enforceLimits', 'rejectOnLimit']);
const STRING_FIELDS = new Set(['algorithm']);
const JSON_FIELDS = new Set(['algorithms', 'rates']);
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** The environment variable that sets `field`: `maxTokensPerMinute` -> `TOLLGATE_MAX_TOKENS_PER_MINUTE`. */
export function envName(field: string, prefix = 'TOLLGATE_'): string {
  return `${prefix}${toSnakeCase(field).toUpperCase()}`;
}

/**
 * Reads a deployment's limits from environment variables named `${prefix}${SNAKE_CASE}`
 * (`TOLLGATE_MAX_CONCURRENT_TASKS=5`, `TOLLGATE_REJECT_ON_LIMIT=true`,
 * `TOLLGATE_RATES='[{"resource":"agentStarts","limit":7,"windowMs":60000}]'`), merged
 * over `base`.
 *
 * @throws InvalidLimitsError naming the variable when a value cannot be read or is invalid.
 */
export function resourceLimitsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  prefix = 'TOLLGATE_',
  base: object = {},
): ParsedResourceLimits {
  const issues: LimitsIssue[] = [];
  const values: Record<string, unknown> = { ...base };
  const fromEnv = new Set<string>();
  for (const field of LIMIT_FIELDS) {
    const name = envName(field, prefix);
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    fromEnv.add(field);
    if (BOOLEAN_FIELDS.has(field)) {
      const lower = raw.toLowerCase();
      if (TRUE.has(lower)) values[field] = true;
      else if (FALSE.has(lower)) values[field] = false;
      else issues.push({ field: name, expected: 'true/false, 1/0, yes/no or on/off', received: raw });
    } else if (STRING_FIELDS.has(field)) {
      values[field] = raw;
    } else if (JSON_FIELDS.has(field)) {
      try {
        values[field] = JSON.parse(raw);
      } catch {
        issues.push({ field: name, expected: 'JSON', received: raw });
      }
    } else {
      const n = Number(raw);
      if (Number.isNaN(n)) issues.push({ field: name, expected: 'a number', received: raw });
      else values[field] = n;
    }
  }
  if (issues.length > 0) throw new InvalidLimitsError(issues);
  try {
    return parseResourceLimits(values);
  } catch (error) {
    if (!InvalidLimitsError.is(error)) throw error;
    // Name the variables, not the fields, so the operator knows what to fix.
    const renamed = error.issues.map((issue) => {
      const [top = '', ...rest] = issue.field.split('.');
      if (!fromEnv.has(top)) return issue;
      return { ...issue, field: [envName(top, prefix), ...rest].join('.') };
    });
    throw new InvalidLimitsError(renamed);
  }
}
