// The TokenCounter interface, and how a chat request's messages and tools are counted.
import type { CountableMessage } from '../types.js';

/** Options for counting a chat request. */
export interface CountOptions {
  /** The model the text is for; picks the encoding. */
  readonly model?: string | undefined;
}

/** Options for counting a whole chat request. */
export interface CountMessagesOptions extends CountOptions {
  /** Tool (function) definitions sent with the request; they are billed as prompt tokens. */
  readonly tools?: readonly unknown[] | undefined;
}

/**
 * Counts tokens the way a provider bills them, to estimate a call's cost before it is
 * made. Estimates are corrected afterwards with the provider's reported usage, so a
 * counter needs to be close, not exact.
 */
export interface TokenCounter {
  /** Tokens in a plain string. */
  countText(text: string, options?: CountOptions): number;
  /** Prompt tokens of a chat request: messages with their per-message overhead, plus tools. */
  countMessages(messages: readonly CountableMessage[], options?: CountMessagesOptions): number;
}

/** Billing overhead of chat formatting, per OpenAI's published accounting for current chat models. */
export const CHAT_OVERHEAD = {
  /** Every message is wrapped in `<|start|>{role}\n ... <|end|>\n`. */
  perMessage: 3,
  /** A `name` field costs one token beyond its text. */
  perName: 1,
  /** Every reply is primed with `<|start|>assistant<|message|>`. */
  perReply: 3,
  /** Each tool call in an assistant message (id, type and framing). */
  perToolCall: 4,
} as const;

/** The text of a message's content, whatever its shape. */
export function messageText(content: CountableMessage['content']): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  let text = '';
  for (const part of content) if (typeof part.text === 'string') text += part.text;
  return text;
}

/**
 * Counts chat messages with `count` for the text parts, adding OpenAI's per-message,
 * per-name and per-reply overhead. Shared by every counter so their totals agree in shape.
 */
export function countChat(
  messages: readonly CountableMessage[],
  tools: readonly unknown[] | undefined,
  count: (text: string) => number,
): number {
  let total = CHAT_OVERHEAD.perReply;
  for (const m of messages) {
    total += CHAT_OVERHEAD.perMessage + count(m.role) + count(messageText(m.content));
    if (m.name) total += CHAT_OVERHEAD.perName + count(m.name);
    if (m.tool_call_id) total += count(m.tool_call_id);
    for (const call of m.tool_calls ?? []) {
      total += CHAT_OVERHEAD.perToolCall + count(call.function.name) + count(call.function.arguments);
    }
  }
  // Tool definitions are rendered into the system prompt in a private format; their JSON
  // is a close, slightly high approximation, which is the safe side for a reservation.
  if (tools && tools.length > 0) total += count(JSON.stringify(tools));
  return total;
}
