// Reading an Anthropic Messages API request: checked, and mapped to the neutral shapes replies are composed from.
import type { CountableMessage } from '@tollgate/core';
import type { OfferedTool } from './compose.js';
import { HttpError } from './HttpError.js';
import {
  isObject,
  type Json,
  joinedText,
  optionalString,
  readJsonObject,
  turnMessages,
} from './requestFields.js';
import { badRequired, badSchemaError } from './toolSchema.js';

/** A checked `POST /v1/messages` body, with its conversation in the neutral shape. */
export interface AnthropicBody {
  readonly model: string;
  readonly maxTokens: unknown;
  readonly stream: boolean;
  /** The conversation as countable messages (system first, tool results as `tool` messages). */
  readonly messages: CountableMessage[];
  readonly tools: OfferedTool[];
  /** `'none'`, `{ function: { name } }` for a forced tool, or undefined. */
  readonly toolChoice: unknown;
}

const invalid = (param: string, message: string) => HttpError.invalid(param, message);

/** Parses and checks a Messages API body: a 400 `invalid_request_error` naming the field otherwise. */
export function parseAnthropicBody(raw: Buffer): AnthropicBody {
  const value = readJsonObject(raw, '');
  if (typeof value.model !== 'string' || !value.model) throw invalid('model', 'model: Field required');
  if (value.max_tokens === undefined) throw invalid('max_tokens', 'max_tokens: Field required');
  if (!Array.isArray(value.messages) || value.messages.length === 0) {
    throw invalid('messages', 'messages: at least one message is required');
  }
  const tools = value.tools ?? [];
  if (!Array.isArray(tools) || !tools.every((t) => isObject(t) && typeof t.name === 'string')) {
    throw invalid('tools', 'tools: expected a list of tools with a name and an input_schema');
  }
  const badSchema = tools.map((t, i) => badRequired(t.input_schema, `tools.${i}.input_schema`)).find(Boolean);
  if (badSchema) throw badSchemaError(badSchema);
  return {
    model: value.model,
    maxTokens: value.max_tokens,
    stream: value.stream === true,
    messages: [...systemOf(value.system), ...value.messages.flatMap(toCountable)],
    tools: tools.map((t) => ({ function: { name: t.name as string, parameters: t.input_schema } })),
    toolChoice: toolChoiceOf(value.tool_choice),
  };
}

function systemOf(system: unknown): CountableMessage[] {
  if (system === undefined) return [];
  if (typeof system === 'string') return [{ role: 'system', content: system }];
  if (Array.isArray(system)) return [{ role: 'system', content: joinedText(system) }];
  throw invalid('system', 'system: expected a string or a list of text blocks');
}

function toolChoiceOf(choice: unknown): unknown {
  if (!isObject(choice)) return undefined;
  if (choice.type === 'none') return 'none';
  if (choice.type === 'tool' && typeof choice.name === 'string') return { function: { name: choice.name } };
  return undefined;
}

/** One Anthropic message as countable messages: tool results become `tool` messages of their own. */
function toCountable(m: unknown, i: number): CountableMessage[] {
  const at = `messages.${i}`;
  if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant')) {
    throw invalid(`${at}.role`, `${at}.role: Input should be 'user' or 'assistant'`);
  }
  if (typeof m.content === 'string') return [{ role: m.role, content: m.content }];
  if (!Array.isArray(m.content) || !m.content.every((b) => isObject(b) && typeof b.type === 'string')) {
    throw invalid(`${at}.content`, `${at}.content: expected a string or a list of content blocks`);
  }
  const blocks = m.content as Json[];
  const blockAt = (b: Json) => `${at}.content.${blocks.indexOf(b)}`;
  const results = blocks
    .filter((b) => b.type === 'tool_result')
    .map((b) => ({
      role: 'tool',
      tool_call_id: optionalString(b.tool_use_id, `${blockAt(b)}.tool_use_id`),
      content: typeof b.content === 'string' ? b.content : joinedText(b.content),
    }));
  const calls = blocks
    .filter((b) => b.type === 'tool_use')
    .map((b) => ({
      function: {
        name: optionalString(b.name, `${blockAt(b)}.name`),
        arguments: JSON.stringify(b.input ?? {}),
      },
    }));
  return turnMessages(m.role, joinedText(blocks.filter((b) => b.type === 'text')), calls, results);
}
