// Our messages and tools in the OpenAI wire shape token counters count.
import type { CountableMessage } from '@tollgate/core';
import type { ChatMessage, ToolDefinition } from './types.js';

/** Our messages in the shape token counters understand (OpenAI's wire shape). */
export function toCountable(messages: readonly ChatMessage[]): CountableMessage[] {
  return messages.map((m) => {
    if (m.role === 'tool') return { role: 'tool', content: m.content, tool_call_id: m.toolCallId };
    if (m.role === 'assistant') {
      return {
        role: 'assistant',
        content: m.content,
        ...(m.toolCalls
          ? { tool_calls: m.toolCalls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) }
          : {}),
      };
    }
    return m;
  });
}

/** Tool definitions in OpenAI's wire shape, for counting. */
export function toCountableTools(tools: readonly ToolDefinition[] | undefined): unknown[] | undefined {
  return tools?.map((t) => ({ type: 'function', function: t }));
}
