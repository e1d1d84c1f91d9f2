/** Translation between Tollgate's provider-neutral chat shapes and Anthropic's Messages API. */
import type Anthropic from '@anthropic-ai/sdk';
import type { Usage } from '@tollgate/core';
import { MalformedResponseError } from '../errors.js';
import type { ChatMessage, ChatRequest, ChatResponse, ToolCall } from '../types.js';
import { readUsage } from '../usage.js';

type Body = Anthropic.MessageCreateParamsNonStreaming;
type Block = Anthropic.ContentBlockParam;

/**
 * The Messages API body of `request`: system messages become `system`, tool results become
 * `tool_result` blocks of a user turn (consecutive ones in one turn), an assistant's tool
 * calls become `tool_use` blocks, and `maxTokens` becomes the required `max_tokens`.
 */
export function toAnthropicBody(request: ChatRequest, model: string, maxTokens: number): Body {
  const system = request.messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
  const choice = request.toolChoice;
  return {
    model,
    max_tokens: maxTokens,
    messages: toTurns(request.messages),
    ...(system ? { system } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.tools && request.tools.length > 0
      ? {
          tools: request.tools.map((t) => ({
            name: t.name,
            ...(t.description ? { description: t.description } : {}),
            input_schema: { type: 'object' as const, ...t.parameters },
          })),
        }
      : {}),
    ...(choice
      ? {
          tool_choice:
            typeof choice === 'object'
              ? { type: 'tool' as const, name: choice.name }
              : { type: choice === 'required' ? ('any' as const) : choice },
        }
      : {}),
  };
}

/** The conversation as alternating turns, with each message's blocks. */
function toTurns(messages: readonly ChatMessage[]): Anthropic.MessageParam[] {
  const turns: Array<{ role: 'user' | 'assistant'; content: Block[] }> = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    const blocks = toBlocks(m);
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  }
  return turns;
}

function toBlocks(m: ChatMessage): Block[] {
  if (m.role === 'tool') return [{ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content }];
  if (m.role !== 'assistant') return [{ type: 'text', text: m.content }];
  const blocks: Block[] = m.content ? [{ type: 'text', text: m.content }] : [];
  for (const call of m.toolCalls ?? []) {
    blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: parseArguments(call.arguments) });
  }
  return blocks;
}

/** A tool call's arguments as the object Anthropic wants; text that is not a JSON object is kept under `input`. */
function parseArguments(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // not JSON: kept as text below
  }
  return { input: text };
}

/** Our finish reason for Anthropic's `stop_reason`. */
export function finishReasonOf(reason: string | null | undefined): ChatResponse['finishReason'] {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'other';
  }
}

/** Anthropic's usage counts, as reported on a message or its stream's start and end. */
export interface AnthropicUsageCounts {
  readonly input_tokens?: unknown;
  readonly output_tokens?: unknown;
  readonly cache_creation_input_tokens?: unknown;
  readonly cache_read_input_tokens?: unknown;
}

const orZero = (n: unknown) => (n === null || n === undefined ? 0 : n);

/**
 * Our `Usage` of Anthropic's counts: `input_tokens` excludes cached prompt tokens, so the
 * prompt is input + cache writes + cache reads, with the cache parts reported apart
 * (`cacheReadTokens` do not count towards Anthropic's ITPM; `cacheWriteTokens` do).
 * A `MalformedResponseError` when a count is missing or not a whole number.
 */
export function usageOf(
  u: AnthropicUsageCounts | undefined,
  where: { provider: string; requestId?: string | undefined },
  maxTokens: number,
): Usage | MalformedResponseError {
  const read = orZero(u?.cache_read_input_tokens);
  const write = orZero(u?.cache_creation_input_tokens);
  const counts = [u?.input_tokens, u?.output_tokens, read, write];
  if (!u || !counts.every((n) => typeof n === 'number')) {
    return readUsage(u ? { promptTokens: u.input_tokens } : undefined, where, maxTokens);
  }
  const [input, output] = counts as number[];
  const promptTokens = (input as number) + (read as number) + (write as number);
  const usage = readUsage(
    { promptTokens, completionTokens: output, totalTokens: promptTokens + (output as number) },
    where,
    maxTokens,
  );
  if (MalformedResponseError.is(usage)) return usage;
  return { ...usage, cacheReadTokens: read as number, cacheWriteTokens: write as number };
}

/** The tool calls and text of a reply's content blocks. */
export function readContent(
  blocks: readonly Anthropic.ContentBlock[],
  bad: (block: unknown) => MalformedResponseError,
): { content: string | null; toolCalls: ToolCall[] } {
  let text: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const block of blocks) {
    if (block.type === 'text') text = (text ?? '') + block.text;
    else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string' || !block.name) throw bad(block);
      toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
    }
  }
  return { content: text, toolCalls };
}
