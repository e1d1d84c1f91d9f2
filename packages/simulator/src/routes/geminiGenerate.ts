// `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent`: Gemini's API.
import type { IncomingMessage } from 'node:http';
import { admit } from '../admission.js';
import { composeReply } from '../compose.js';
import type { SimulatorContext } from '../context.js';
import { countPrompt } from '../countPrompt.js';
import { inFlight, replyDelayMs, sleep } from '../delivery.js';
import { parseGeminiBody } from '../geminiRequest.js';
import { HttpError } from '../HttpError.js';
import { type GeminiUsage, geminiResponse, sendGeminiError, streamGeminiResponse } from '../render/gemini.js';
import { sendJson } from '../render/json.js';
import { maxOutputTokens, readRequest } from './input.js';
import type { Route } from './Route.js';

const PATH = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

/** The key from `x-goog-api-key` or the `key` query parameter, as Gemini takes it. */
function geminiKey(req: IncomingMessage, url: URL): string | undefined {
  return (
    (req.headers['x-goog-api-key'] as string | undefined)?.trim() || url.searchParams.get('key') || undefined
  );
}

/** The model named in the path, percent-decoded: a broken escape is a 400 (counted as a bad request). */
function modelName(ctx: SimulatorContext, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    ctx.stats.badRequests++;
    throw HttpError.invalid('model', `* GenerateContentRequest.model: invalid model name '${raw}'.`);
  }
}

/**
 * Gemini's `generateContent` (one JSON response) and `streamGenerateContent` (SSE chunks):
 * the prompt is counted and charged to `tokensPerWindow` alone (Gemini's TPM counts input),
 * requests to `requestsPerWindow`, and `requestBudget` is the per-day request quota; refusals
 * are `RESOURCE_EXHAUSTED` bodies with `QuotaFailure` and `RetryInfo` details.
 */
export const geminiGenerateRoute: Route = {
  method: 'POST',
  matches: (pathname) => PATH.test(pathname),
  counted: true,
  apiKey: geminiKey,
  sendError: sendGeminiError,
  async handle(ctx, { req, res, key, url }) {
    const [, rawModel = '', method] = PATH.exec(url.pathname) ?? [];
    const model = modelName(ctx, rawModel);
    const body = await readRequest(ctx, req, parseGeminiBody);
    const { messages, tools } = body;
    const maxOut = maxOutputTokens(ctx, body.maxTokens, 'generationConfig.maxOutputTokens');
    const promptTokens = await countPrompt(ctx.counter, messages, { model, tools });
    const admission = admit(ctx, req, { key, charged: promptTokens });
    if (!admission) return;
    const { sequence } = admission;
    const reply = composeReply(ctx, {
      model,
      messages,
      tools,
      toolChoice: body.toolChoice,
      maxOut,
      sequence,
    });
    ctx.stats.tokens.prompt += promptTokens;
    ctx.stats.tokens.completion += reply.completionTokens;
    const usage: GeminiUsage = {
      promptTokenCount: promptTokens,
      candidatesTokenCount: reply.completionTokens,
      totalTokenCount: promptTokens + reply.completionTokens,
    };
    const id = `sim-${sequence}`;
    const headers = { 'x-request-id': `req_sim_${sequence}` };
    const delayMs = replyDelayMs(ctx, reply.completionTokens);
    await inFlight(ctx, async () => {
      if (method === 'streamGenerateContent') {
        await streamGeminiResponse(ctx, res, { headers, id, model, reply, usage, delayMs });
      } else if (await sleep(ctx, res, delayMs)) {
        sendJson(res, 200, geminiResponse(id, model, reply, usage), headers);
      }
    });
  },
};
