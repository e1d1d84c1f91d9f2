// Readers of request fields every protocol shares: the JSON body, optional strings, text parts, a turn's messages.
import type { CountableMessage } from '@tollgate/core';
import { HttpError } from './HttpError.js';

/** A JSON object. */
export type Json = Record<string, unknown>;

/** Whether `value` is a JSON object (not null, not a list). */
export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Deepest JSON nesting accepted (a tool schema deeper than this is refused, not recursed into). */
export const MAX_DEPTH = 64;

/** Whether `value` nests deeper than `MAX_DEPTH`, walked without recursion. */
export function tooDeep(value: unknown): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_DEPTH) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** A protocol's words for a body that cannot be read. */
export interface BodyWording {
  readonly notJson: string;
  readonly notObject: string;
  readonly tooDeep: string;
}

/** How the OpenAI and Anthropic APIs word a body that cannot be read. */
export const REQUEST_BODY_WORDING: BodyWording = {
  notJson: 'The request body is not valid JSON.',
  notObject: 'The request body must be a JSON object.',
  tooDeep: `The request body is nested deeper than ${MAX_DEPTH} levels.`,
};

/**
 * The request body as a JSON object: a 400 about `param` in the protocol's words when it is
 * not JSON, not an object, or nested deeper than `MAX_DEPTH`.
 */
export function readJsonObject(
  raw: Buffer,
  param: string | null,
  wording: BodyWording = REQUEST_BODY_WORDING,
): Json {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw HttpError.invalid(param, wording.notJson);
  }
  if (!isObject(value)) throw HttpError.invalid(param, wording.notObject);
  if (tooDeep(value)) throw HttpError.invalid(param, wording.tooDeep);
  return value;
}

/**
 * `value` when it is a string, `fallback` when it is absent; otherwise a 400 naming `param`
 * (a JSON value such as `{"toString":1}` must not reach `String()`).
 */
export function optionalString(value: unknown, param: string, fallback = ''): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw HttpError.invalid(param, `${param}: Input should be a valid string.`);
  return value;
}

/** The `text` strings of a list of parts (or content blocks) joined; `''` for what is not a list. */
export function joinedText(parts: unknown): string {
  if (!Array.isArray(parts)) return '';
  return parts.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('');
}

/** A tool call as the neutral shape carries it. */
type ToolCall = NonNullable<CountableMessage['tool_calls']>[number];

/**
 * One turn as countable messages: its tool results first, each a `tool` message of its own,
 * then the turn itself with its text and calls (left out when it held only tool results).
 */
export function turnMessages(
  role: string,
  text: string,
  calls: readonly ToolCall[],
  results: readonly CountableMessage[],
): CountableMessage[] {
  const own =
    text || calls.length > 0 || results.length === 0
      ? [{ role, content: text, ...(calls.length > 0 ? { tool_calls: calls } : {}) }]
      : [];
  return [...results, ...own];
}
