// A provider-neutral ChatRequest as the body of an OpenAI chat completions request.
import type OpenAI from 'openai';
import type { ChatMessage, ChatRequest } from '../types.js';

/** The body of a (non-streamed) chat completions request for `request`, on `model` by default. */
export function toRequestBody(
  request: ChatRequest,
  model: string,
): OpenAI.ChatCompletionCreateParamsNonStreaming {
  return {
    model: request.model ?? model,
    messages: request.messages.map(toOpenAIMessage),
    ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.tools && request.tools.length > 0
      ? {
          tools: request.tools.map((t) => ({
            type: 'function' as const,
            function: {
              name: t.name,
              ...(t.description ? { description: t.description } : {}),
              parameters: { ...t.parameters },
            },
          })),
        }
      : {}),
    ...(request.toolChoice
      ? {
          tool_choice:
            typeof request.toolChoice === 'string'
              ? request.toolChoice
              : { type: 'function' as const, function: { name: request.toolChoice.name } },
        }
      : {}),
  };
}

function toOpenAIMessage(m: ChatMessage): OpenAI.ChatCompletionMessageParam {
  switch (m.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: m.content,
        ...(m.toolCalls && m.toolCalls.length > 0
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      };
    default:
      return { role: m.role, content: m.content, ...(m.name ? { name: m.name } : {}) };
  }
}
