/** Translation between Tollgate's provider-neutral chat shapes and Gemini's `generateContent`. */
import type { Content, GenerateContentConfig, GenerateContentResponse, Part } from '@google/genai';
import type { Usage } from '@tollgate/core';
import type { MalformedResponseError } from '../errors.js';
import type { ChatMessage, ChatRequest, ChatResponse, ToolCall } from '../types.js';
import { readUsage } from '../usage.js';

/** The `contents` and `config` of `request`. */
export function toGeminiRequest(
  request: ChatRequest,
  maxTokens: number | undefined,
): { contents: Content[]; config: GenerateContentConfig } {
  const system = request.messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
  const choice = request.toolChoice;
  const config: GenerateContentConfig = {
    ...(system ? { systemInstruction: system } : {}),
    ...(maxTokens !== undefined ? { maxOutputTokens: maxTokens } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.tools && request.tools.length > 0
      ? {
          tools: [
            {
              functionDeclarations: request.tools.map((t) => ({
                name: t.name,
                ...(t.description ? { description: t.description } : {}),
                parametersJsonSchema: t.parameters,
              })),
            },
          ],
        }
      : {}),
    ...(choice ? { toolConfig: { functionCallingConfig: callingConfig(choice) } } : {}),
  };
  return { contents: toContents(request.messages), config };
}

function callingConfig(choice: NonNullable<ChatRequest['toolChoice']>) {
  if (typeof choice === 'object') return { mode: 'ANY' as never, allowedFunctionNames: [choice.name] };
  return { mode: (choice === 'required' ? 'ANY' : choice.toUpperCase()) as never };
}

/**
 * The conversation as Gemini contents: the assistant is `model`, a tool result is a
 * `functionResponse` part of a user turn named after the call it answers, consecutive
 * turns of one role are merged.
 */
function toContents(messages: readonly ChatMessage[]): Content[] {
  const names = new Map<string, string>();
  const contents: Array<{ role: 'user' | 'model'; parts: Part[] }> = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    const role = m.role === 'assistant' ? 'model' : 'user';
    const parts = toParts(m, names);
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  }
  return contents;
}

function toParts(m: ChatMessage, names: Map<string, string>): Part[] {
  if (m.role === 'tool') {
    const name = names.get(m.toolCallId) ?? m.toolCallId;
    return [{ functionResponse: { id: m.toolCallId, name, response: { result: m.content } } }];
  }
  if (m.role !== 'assistant') return [{ text: m.content }];
  const parts: Part[] = m.content ? [{ text: m.content }] : [];
  for (const call of m.toolCalls ?? []) {
    names.set(call.id, call.name);
    parts.push({ functionCall: { id: call.id, name: call.name, args: parseArgs(call.arguments) } });
  }
  return parts;
}

function parseArgs(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // not JSON: kept as text below
  }
  return { input: text };
}

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

/** Our finish reason for Gemini's, given whether the reply called tools. */
export function finishReasonOf(
  reason: string | undefined,
  calledTools: boolean,
): ChatResponse['finishReason'] {
  if (calledTools && (reason === 'STOP' || reason === undefined)) return 'tool_calls';
  if (reason === 'STOP') return 'stop';
  if (reason === 'MAX_TOKENS') return 'length';
  return reason && FILTERED.has(reason) ? 'content_filter' : 'other';
}

/** The text and tool calls of one response (or stream chunk); `idOf` names calls Gemini sent without an id. */
export function readParts(
  response: GenerateContentResponse,
  idOf: (n: number) => string,
  bad: (part: unknown) => MalformedResponseError,
): { text: string | undefined; toolCalls: ToolCall[] } {
  let text: string | undefined;
  const toolCalls: ToolCall[] = [];
  for (const part of response.candidates?.[0]?.content?.parts ?? []) {
    if (typeof part.text === 'string' && !part.thought) text = (text ?? '') + part.text;
    const call = part.functionCall;
    if (!call) continue;
    if (typeof call.name !== 'string' || !call.name) throw bad(part);
    toolCalls.push({
      id: call.id ?? idOf(toolCalls.length),
      name: call.name,
      arguments: JSON.stringify(call.args ?? {}),
    });
  }
  return { text, toolCalls };
}

/**
 * Our `Usage` of Gemini's `usageMetadata`: completion is candidates + thoughts (both are
 * billed as output). Cached prompt tokens stay in `promptTokens` and are not reported as
 * `cacheReadTokens`, so they count as input for the governor: Gemini does not say its input
 * TPM leaves them out.
 */
export function usageOf(
  response: GenerateContentResponse,
  where: { provider: string; requestId?: string | undefined },
  maxTokens: number | undefined,
): Usage | MalformedResponseError {
  const u = response.usageMetadata;
  if (!u) return readUsage(undefined, where, maxTokens);
  const promptTokens = (u.promptTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0);
  const completionTokens = (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0);
  return readUsage(
    { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
    where,
    maxTokens === undefined ? undefined : maxTokens + (u.thoughtsTokenCount ?? 0),
  );
}
