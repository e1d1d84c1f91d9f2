// Gemini's generateContent API: `x-goog-api-key`, `contents` of parts, `maxOutputTokens`, usageMetadata.
import type { CountableMessage } from '@tollgate/core';
import { object, objects, type ProviderProtocol, type RawUsage } from './ProviderProtocol.js';

const fromGemini = (u: Record<string, unknown>): RawUsage => ({
  promptTokens: u.promptTokenCount,
  // A reply that produced nothing may leave the count out.
  completionTokens: u.candidatesTokenCount ?? 0,
  totalTokens: u.totalTokenCount,
});

/** A Gemini content (`{ role, parts: [{ text }] }`) as a countable message. */
const countable = (content: Record<string, unknown>, role: string): CountableMessage => ({
  role: typeof content.role === 'string' ? content.role : role,
  content: objects(content.parts).map((p) => ({
    type: 'text',
    text: typeof p.text === 'string' ? p.text : JSON.stringify(p.functionCall ?? p.functionResponse ?? ''),
  })),
});

/** Gemini's `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`. */
export const geminiProtocol: ProviderProtocol = {
  name: 'gemini',
  authHeaders: (apiKey) => ({ 'x-goog-api-key': apiKey }),
  countable(request) {
    const system = request.body.systemInstruction;
    const head = typeof system === 'object' && system !== null ? [countable(object(system), 'system')] : [];
    const tools = objects(request.body.tools).flatMap((t) => objects(t.functionDeclarations));
    return {
      messages: [...head, ...objects(request.body.contents).map((c) => countable(c, 'user'))],
      tools: tools.length > 0 ? tools : undefined,
    };
  },
  maxOutputTokens: (request) => {
    const n = object(request.body.generationConfig).maxOutputTokens;
    return typeof n === 'number' ? n : undefined;
  },
  replyUsage(reply) {
    const usage = object(object(reply).usageMetadata);
    return Object.keys(usage).length === 0 ? undefined : fromGemini(usage);
  },
  readStreamData(data, into) {
    const chunk = object(data);
    for (const candidate of objects(chunk.candidates))
      for (const part of objects(object(candidate.content).parts))
        if (typeof part.text === 'string') into.text += part.text;
    const usage = object(chunk.usageMetadata);
    if (Object.keys(usage).length > 0) into.usage = fromGemini(usage);
  },
  streamErrorEvent: (error) =>
    `data: ${JSON.stringify({ error: { code: error.code === 'upstream_timeout' ? 504 : 502, message: error.message, status: error.code === 'upstream_timeout' ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE' } })}\n\n`,
  passedHeaders: ['x-request-id'],
  healthPath: '/v1beta/models',
};
