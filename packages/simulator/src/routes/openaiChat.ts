// `POST /v1/chat/completions`: OpenAI's chat completions, streamed or not.
import { admit } from '../admission.js';
import { composeReply } from '../compose.js';
import { countPrompt } from '../countPrompt.js';
import { inFlight, replyDelayMs, sleep } from '../delivery.js';
import { sendJson } from '../render/json.js';
import { chatCompletion, completionBase, type OpenAIUsage, streamChatCompletion } from '../render/openai.js';
import { parseChatBody } from '../request.js';
import { maxOutputTokens, readRequest } from './input.js';
import type { Route } from './Route.js';

/**
 * OpenAI's chat completions: the body is checked, the prompt counted, the request admitted
 * (charged prompt + max output tokens), then the reply composed and sent after its latency,
 * as one JSON completion or as server-sent chunks.
 */
export const openAIChatRoute: Route = {
  method: 'POST',
  matches: (pathname) => pathname === '/v1/chat/completions',
  counted: true,
  async handle(ctx, { req, res, key }) {
    const body = await readRequest(ctx, req, parseChatBody);
    const { model, messages, tools } = body;
    const maxOut = maxOutputTokens(ctx, body.max_completion_tokens ?? body.max_tokens, 'max_tokens');
    // Counted before the clock is read: a large prompt is counted over several turns of the loop.
    const promptTokens = await countPrompt(ctx.counter, messages, { model, tools });
    const admission = admit(ctx, req, { key, charged: promptTokens + maxOut });
    if (!admission) return;
    const { sequence } = admission;
    const headers = { ...admission.headers, 'x-request-id': `req_sim_${sequence}` };
    const reply = composeReply(ctx, {
      model,
      messages,
      tools,
      toolChoice: body.tool_choice,
      maxOut,
      sequence,
    });
    ctx.stats.tokens.prompt += promptTokens;
    ctx.stats.tokens.completion += reply.completionTokens;
    const delayMs = replyDelayMs(ctx, reply.completionTokens);
    const usage: OpenAIUsage = {
      prompt_tokens: promptTokens,
      completion_tokens: reply.completionTokens,
      total_tokens: promptTokens + reply.completionTokens,
    };
    const base = completionBase(ctx, sequence, model);
    // As OpenAI: how long the request has been processed, here since its admission, as the
    // reply's headers go (rounded down, so a client never counts the admission too early).
    const processed = () => ({
      ...headers,
      'openai-processing-ms': String(Math.max(0, Math.floor(ctx.clock.now() - admission.now))),
    });
    await inFlight(ctx, async () => {
      if (body.stream === true) {
        const includeUsage = body.stream_options?.include_usage === true;
        await streamChatCompletion(ctx, res, {
          headers: processed(),
          base,
          reply,
          usage,
          delayMs,
          includeUsage,
        });
      } else if (await sleep(ctx, res, delayMs)) {
        sendJson(res, 200, chatCompletion(base, reply, usage), processed());
      }
    });
  },
};
