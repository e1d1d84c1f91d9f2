// The prompt of an AI SDK call as token counters see it: OpenAI's chat wire shape.
import type { CountableMessage, TokenCounter } from '@tollgate/core';
import type { ModelCallOptions, ModelPrompt } from './types.js';

type Message = ModelPrompt[number];
type Part = Exclude<Message['content'], string>[number];

/** The text a tool result stands for: its string, or its JSON. */
function outputText(output: unknown): string {
  const value = (output as { value?: unknown } | undefined)?.value;
  if (typeof value === 'string') return value;
  return JSON.stringify(value ?? output ?? '');
}

/** The countable text of one content part; files (images, PDFs) count nothing here. */
function partText(part: Part): string {
  switch (part.type) {
    case 'text':
    case 'reasoning':
      return part.text;
    case 'tool-result':
      return outputText(part.output);
    default:
      return '';
  }
}

/** One AI SDK message as one or more countable messages (each tool result is one, as on the wire). */
function toCountable(message: Message): CountableMessage[] {
  if (typeof message.content === 'string') return [{ role: message.role, content: message.content }];
  const parts = message.content as readonly Part[];
  if (message.role === 'tool') {
    return parts.map((p) => ({
      role: 'tool',
      content: partText(p),
      ...('toolCallId' in p ? { tool_call_id: p.toolCallId } : {}),
    }));
  }
  const calls = parts.flatMap((p) =>
    p.type === 'tool-call'
      ? [{ function: { name: p.toolName, arguments: JSON.stringify(p.input ?? {}) } }]
      : [],
  );
  return [
    {
      role: message.role,
      content: parts.map(partText).join(''),
      ...(calls.length > 0 ? { tool_calls: calls } : {}),
    },
  ];
}

/** The call's tool definitions in OpenAI's wire shape, for counting. */
function countableTools(tools: ModelCallOptions['tools']): unknown[] | undefined {
  return tools?.map((t) =>
    t.type === 'function'
      ? {
          type: 'function',
          function: { name: t.name, description: t.description, parameters: t.inputSchema },
        }
      : { type: t.type, name: t.name, args: t.args },
  );
}

/**
 * Prompt tokens of one call: its messages (text, reasoning, tool calls and results) and
 * its tool definitions, with the chat overhead `counter` adds. Files are not counted:
 * pass an `estimate` to `tollgateMiddleware` when prompts carry images or documents.
 */
export function countPromptTokens(counter: TokenCounter, params: ModelCallOptions, model: string): number {
  return counter.countMessages(params.prompt.flatMap(toCountable), {
    model,
    tools: countableTools(params.tools),
  });
}
