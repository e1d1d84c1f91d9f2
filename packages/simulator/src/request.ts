// Reading and checking a chat completion request's body.
import type { IncomingMessage } from 'node:http';
import type { CountableMessage } from '@tollgate/core';
import { HttpError } from './HttpError.js';
import { isObject, readJsonObject } from './requestFields.js';
import { badRequired } from './toolSchema.js';

/** A chat completion request the simulator has checked. */
export interface ChatBody {
  readonly model: string;
  readonly messages: CountableMessage[];
  readonly tools: Array<{ type?: string; function: { name: string; parameters?: unknown } }>;
  readonly tool_choice?: unknown;
  readonly max_tokens?: unknown;
  readonly max_completion_tokens?: unknown;
  readonly stream?: unknown;
  readonly stream_options?: { include_usage?: boolean };
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

/**
 * Reads a request body of at most `maxBytes`, chunk by chunk: a larger one (by its
 * `content-length` or as it arrives) is refused with 413 without reading the rest.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    new HttpError(
      413,
      'invalid_request_error',
      'request_too_large',
      `The request body is larger than ${maxBytes} bytes.`,
      { connection: 'close' },
    );
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses and checks a chat completion body: 400 with the parameter at fault otherwise. */
export function parseChatBody(raw: Buffer): ChatBody {
  const value = readJsonObject(raw, null);
  if (typeof value.model !== 'string' || value.model.length === 0) {
    throw HttpError.invalid('model', "Missing required parameter: 'model' (a string).");
  }
  const { messages, tools = [] } = value;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw HttpError.invalid('messages', "'messages' must be a non-empty array.");
  }
  messages.forEach(checkMessage);
  if (!Array.isArray(tools)) throw HttpError.invalid('tools', "'tools' must be an array.");
  tools.forEach(checkTool);
  return { ...value, model: value.model, messages, tools } as ChatBody;
}

function checkMessage(m: unknown, i: number): void {
  const at = `messages[${i}]`;
  if (!isObject(m))
    throw HttpError.invalid(at, `Invalid type for '${at}': expected an object, got ${kind(m)}.`);
  if (typeof m.role !== 'string' || !ROLES.has(m.role)) {
    throw HttpError.invalid(`${at}.role`, `Invalid value for '${at}.role': ${JSON.stringify(m.role)}.`);
  }
  const { content } = m;
  const ok =
    typeof content === 'string' ||
    (content == null && m.role === 'assistant') ||
    (Array.isArray(content) &&
      content.every(
        (p) =>
          isObject(p) && typeof p.type === 'string' && (p.text === undefined || typeof p.text === 'string'),
      ));
  if (!ok) {
    throw HttpError.invalid(
      `${at}.content`,
      `Invalid type for '${at}.content': expected a string or an array of content parts, got ${kind(content)}.`,
    );
  }
  const calls = m.tool_calls;
  if (
    calls !== undefined &&
    !(
      Array.isArray(calls) &&
      calls.every(
        (c) =>
          isObject(c) &&
          isObject(c.function) &&
          typeof c.function.name === 'string' &&
          typeof c.function.arguments === 'string',
      )
    )
  ) {
    throw HttpError.invalid(`${at}.tool_calls`, `Invalid '${at}.tool_calls': expected function calls.`);
  }
  if (m.tool_call_id !== undefined && typeof m.tool_call_id !== 'string') {
    const message = `Invalid type for '${at}.tool_call_id': expected a string, got ${kind(m.tool_call_id)}.`;
    throw HttpError.invalid(`${at}.tool_call_id`, message);
  }
}

function checkTool(t: unknown, i: number): void {
  const at = `tools[${i}]`;
  if (!isObject(t) || !isObject(t.function) || typeof t.function.name !== 'string') {
    throw HttpError.invalid(at, `Invalid '${at}': expected { type: 'function', function: { name } }.`);
  }
  const bad = badRequired(t.function.parameters, `${at}.function.parameters`);
  if (bad) throw HttpError.invalid(bad, `Invalid schema for '${bad}': expected an array of strings.`);
}

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
