// Checks of single settings, each throwing a GatewayConfigError that names the setting.

import { InvalidLimitsError } from '@tollgate/core';
import { parseResourceLimits, type ResourceLimits } from '@tollgate/limits';
import { GatewayConfigError } from '../errors.js';
import { PERMISSIONS, type Permission } from './GatewayConfig.js';

/** A value as an error may show it: secrets never, long values cut. */
export function shown(value: unknown, secret = false): string {
  if (secret) return value === undefined ? 'nothing' : `a ${typeof value} (not shown)`;
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** An integer in [min, max], from a number or a decimal string. */
export function integerSetting(name: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
    throw new GatewayConfigError(name, `an integer from ${min} to ${max}`, shown(value));
  return n;
}

/** A non-empty string; `secret` keeps its value out of the message. */
export function stringSetting(name: string, value: unknown, secret = false, minLength = 1): string {
  if (typeof value !== 'string' || value.length < minLength)
    throw new GatewayConfigError(
      name,
      minLength > 1 ? `a string of at least ${minLength} characters` : 'a non-empty string',
      shown(value, secret),
    );
  return value;
}

/** A URL with one of `protocols` (without the colon). */
export function urlSetting(name: string, value: unknown, protocols: readonly string[]): string {
  const text = stringSetting(name, value);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GatewayConfigError(name, `a ${protocols.join(' or ')} URL`, redactUrl(text));
  }
  if (!protocols.includes(url.protocol.slice(0, -1)))
    throw new GatewayConfigError(name, `a ${protocols.join(' or ')} URL`, redactUrl(text));
  return text;
}

/** A URL as an error may show it: without its password. */
function redactUrl(text: string): string {
  return shown(text.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@'));
}

/** A check of an integer in [min, max], for {@link SectionSetting.optional}. */
export const integerIn =
  (min: number, max: number) =>
  (name: string, value: unknown): number =>
    integerSetting(name, value, min, max);

/** One of `choices`, given exactly. */
export function oneOfSetting<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T))
    throw new GatewayConfigError(name, choices.map((c) => `'${c}'`).join(' or '), shown(value));
  return value as T;
}

/** A boolean, from a boolean or `true`/`false`/`1`/`0`. */
export function booleanSetting(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new GatewayConfigError(name, 'true or false', shown(value));
}

/** A list of permissions. */
export function permissionsSetting(name: string, value: unknown): Permission[] {
  if (!Array.isArray(value) || !value.every((p) => PERMISSIONS.includes(p as Permission)))
    throw new GatewayConfigError(
      name,
      `an array of ${PERMISSIONS.map((p) => `'${p}'`).join(', ')}`,
      shown(value),
    );
  return [...new Set(value as Permission[])];
}

/** A list of strings. */
export function stringListSetting(name: string, value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length > 0))
    throw new GatewayConfigError(name, 'a list of non-empty strings', shown(value));
  return list as string[];
}

/** `ResourceLimits`, validated by `parseResourceLimits`; the first problem names the field. */
export function limitsSetting(name: string, value: unknown): ResourceLimits {
  try {
    parseResourceLimits(value);
    return value as ResourceLimits;
  } catch (error) {
    if (!InvalidLimitsError.is(error)) throw error;
    throw new GatewayConfigError(`${name}.${error.field}`, error.expected, shown(error.received));
  }
}

/** An object with only `known` fields. */
export function objectSetting(
  name: string,
  value: unknown,
  known: readonly string[],
  separator = '.',
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new GatewayConfigError(name, 'an object', shown(value));
  for (const key of Object.keys(value))
    if (!known.includes(key))
      throw new GatewayConfigError(
        `${name}${separator}${key}`,
        `one of the fields ${known.join(', ')}`,
        'an unknown field',
      );
  return value as Record<string, unknown>;
}

/** A config section checked by {@link sectionSetting}: its fields, read one by one. */
export interface SectionSetting {
  /** The fields as given (only known ones). */
  readonly fields: Record<string, unknown>;
  /** `field` passed through `check` under its full name (`SECTION.field`), or `undefined` when unset. */
  optional<T>(field: string, check: (name: string, value: unknown) => T): T | undefined;
}

/**
 * An object with only `known` fields (see {@link objectSetting}), whose fields are then read
 * with `optional(field, check)`: errors name each field as `NAME` + `separator` + field.
 */
export function sectionSetting(
  name: string,
  value: unknown,
  known: readonly string[],
  separator = '.',
): SectionSetting {
  const fields = objectSetting(name, value, known, separator);
  return {
    fields,
    optional: (field, check) =>
      fields[field] === undefined ? undefined : check(`${name}${separator}${field}`, fields[field]),
  };
}
