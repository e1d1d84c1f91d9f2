// resourceLimitsFromEnv: ResourceLimits read from TOLLGATE_* environment variables.
import { InvalidLimitsError, type LimitsIssue, type Logger, silentLogger } from '@tollgate/core';
import { closestName } from './closestName.js';
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

/** Options of {@link resourceLimitsFromEnv}. */
export interface ResourceLimitsFromEnvOptions {
  /**
   * Prefixes nested under `prefix` that belong to other readers (the container reads
   * `TOLLGATE_PROVIDER_*` apart from `TOLLGATE_*`); their variables are not checked here.
   * @default []
   */
  readonly ignorePrefixes?: readonly string[] | undefined;
  /** Lists, in one warning, the variables under `prefix` that set nothing. @default silentLogger */
  readonly logger?: Logger | undefined;
}

/**
 * Reads a deployment's limits from environment variables named `${prefix}${SNAKE_CASE}`
 * (`TOLLGATE_MAX_CONCURRENT_TASKS=5`, `TOLLGATE_REJECT_ON_LIMIT=true`,
 * `TOLLGATE_RATES='[{"resource":"agentStarts","limit":7,"windowMs":60000}]'`), merged
 * over `base`; the merged limits are validated as a whole. A variable under `prefix`
 * that is close to a known name (`TOLLGATE_MAX_REQUEST_PER_MINUTE`) is an error naming
 * the likely one; other unknown variables under it are listed once through `logger`.
 *
 * @throws InvalidLimitsError naming the variable when a value cannot be read or is invalid.
 */
export function resourceLimitsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  prefix = 'TOLLGATE_',
  base: object = {},
  options: ResourceLimitsFromEnvOptions = {},
): ParsedResourceLimits {
  const issues: LimitsIssue[] = [];
  const values: Record<string, unknown> = { ...parseResourceLimits(base) };
  const fromEnv = new Set<string>();
  for (const field of LIMIT_FIELDS) {
    const name = envName(field, prefix);
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    fromEnv.add(field);
    const value = readValue(field, name, raw, issues);
    if (value !== undefined) values[field] = value;
  }
  checkUnknown(env, prefix, options, issues);
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

/** The value of variable `name` for `field`, or `undefined` with an issue when it cannot be read. */
function readValue(field: string, name: string, raw: string, issues: LimitsIssue[]): unknown {
  if (BOOLEAN_FIELDS.has(field)) {
    const lower = raw.toLowerCase();
    if (TRUE.has(lower)) return true;
    if (FALSE.has(lower)) return false;
    issues.push({ field: name, expected: 'true/false, 1/0, yes/no or on/off', received: raw });
    return undefined;
  }
  if (STRING_FIELDS.has(field)) return raw;
  if (JSON_FIELDS.has(field)) {
    try {
      return JSON.parse(raw);
    } catch {
      issues.push({ field: name, expected: 'JSON', received: raw });
      return undefined;
    }
  }
  const n = Number(raw);
  if (Number.isNaN(n)) issues.push({ field: name, expected: 'a number', received: raw });
  return Number.isNaN(n) ? undefined : n;
}

/** Misspelt variables under `prefix` become issues; other unknown ones one warning. */
function checkUnknown(
  env: Readonly<Record<string, string | undefined>>,
  prefix: string,
  options: ResourceLimitsFromEnvOptions,
  issues: LimitsIssue[],
): void {
  const known = LIMIT_FIELDS.map((field) => toSnakeCase(field).toUpperCase());
  const ignored = options.ignorePrefixes ?? [];
  const unknown: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith(prefix) || ignored.some((p) => name.startsWith(p))) continue;
    const rest = name.slice(prefix.length);
    if (known.includes(rest)) continue;
    const hint = closestName(rest, known);
    if (hint) {
      issues.push({
        field: name,
        expected: `a known variable (did you mean \`${prefix}${hint}\`?)`,
        received: env[name],
      });
    } else unknown.push(name);
  }
  if (unknown.length > 0) {
    (options.logger ?? silentLogger).warn(
      `Environment variables under ${prefix} that set no limit (ignored): ${unknown.join(', ')}`,
      { prefix, variables: unknown },
    );
  }
}
