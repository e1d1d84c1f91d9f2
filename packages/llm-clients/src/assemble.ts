// assembleChunks: a streamed reply assembled into the ChatResponse it would have been.
import type { Usage } from '@tollgate/core';
import type { ChatChunk, ChatResponse, ToolCall } from './types.js';

/** What a stream may not say: the model asked for, and usage counted from the text. */
export interface AssembleFallback {
  readonly model: string;
  /** Usage when no chunk carried it, from the text and tool calls streamed. */
  readonly usage: (streamedText: string) => Usage;
}

/**
 * Assembles a streamed reply into the `ChatResponse` the whole reply would have been: the
 * text joined, tool-call fragments merged by index (ids and names as first sent, arguments
 * joined), the last finish reason, and the usage of the final usage chunk.
 *
 * @example
 * const chunks = await lastValueFrom(client.stream(request).pipe(toArray()));
 * const reply = assembleChunks(chunks, { model: 'gpt-4o-mini', usage: (text) => count(text) });
 */
export function assembleChunks(chunks: readonly ChatChunk[], fallback: AssembleFallback): ChatResponse {
  let content = '';
  let streamed = '';
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  let finishReason: ChatResponse['finishReason'] | undefined;
  let usage: Usage | undefined;
  let id: string | undefined;
  let model: string | undefined;
  let requestId: string | undefined;
  let rateLimit: ChatResponse['rateLimit'];
  for (const chunk of chunks) {
    id ??= chunk.id;
    model ??= chunk.model;
    requestId ??= chunk.requestId;
    rateLimit ??= chunk.rateLimit;
    if (chunk.content) {
      content += chunk.content;
      streamed += chunk.content;
    }
    for (const delta of chunk.toolCallDeltas ?? []) {
      let call = calls.get(delta.index);
      if (!call) {
        call = { id: '', name: '', arguments: '' };
        calls.set(delta.index, call);
      }
      call.id ||= delta.id ?? '';
      call.name ||= delta.name ?? '';
      call.arguments += delta.arguments ?? '';
      streamed += (delta.name ?? '') + (delta.arguments ?? '');
    }
    if (chunk.finishReason) finishReason = chunk.finishReason;
    if (chunk.usage) usage = chunk.usage;
  }
  const toolCalls: ToolCall[] = [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
  return {
    id: id ?? '',
    model: model ?? fallback.model,
    content: content === '' && toolCalls.length > 0 ? null : content,
    toolCalls,
    finishReason: finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'other'),
    usage: usage ?? fallback.usage(streamed),
    ...(requestId ? { requestId } : {}),
    ...(rateLimit ? { rateLimit } : {}),
  };
}
