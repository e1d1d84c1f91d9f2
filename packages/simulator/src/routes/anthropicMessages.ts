// `POST /v1/messages`: Anthropic's Messages API, streamed (SSE events) or not.
import { admitAnthropic } from '../anthropicAdmission.js';
import { parseAnthropicBody } from '../anthropicRequest.js';
import { composeReply } from '../compose.js';
import { countPrompt } from '../countPrompt.js';
import { inFlight, replyDelayMs, sleep } from '../delivery.js';
import { HttpError } from '../HttpError.js';
import {
  type AnthropicUsage,
  anthropicMessage,
  sendAnthropicError,
  streamAnthropicMessage,
} from '../render/anthropic.js';
import { sendJson } from '../render/json.js';
import { maxOutputTokens, readRequest } from './input.js';
import { bearerKey, type Route } from './Route.js';

/**
 * Anthropic's Messages API: the key from `x-api-key` (or a bearer token), an `anthropic-version` header
 * required, the input counted with the provider's own tokenizer, admission against the
 * RPM/ITPM/OTPM buckets (output charged as `max_tokens`, corrected to the real output when
 * the reply ends), then the message as JSON or as SSE events with `anthropic-ratelimit-*`
 * headers and a `request-id`.
 */
export const anthropicMessagesRoute: Route = {
  method: 'POST',
  matches: (pathname) => pathname === '/v1/messages',
  counted: true,
  // The SDK sends the key as `x-api-key` or, in recent versions, as a bearer token.
  apiKey: (req) => (req.headers['x-api-key'] as string | undefined)?.trim() || bearerKey(req),
  sendError: sendAnthropicError,
  async handle(ctx, { req, res, key }) {
    if (!req.headers['anthropic-version']) {
      ctx.stats.badRequests++;
      throw HttpError.invalid(null, 'anthropic-version: header is required');
    }
    const body = await readRequest(ctx, req, parseAnthropicBody);
    const { model, messages, tools } = body;
    const maxOut = maxOutputTokens(ctx, body.maxTokens, 'max_tokens');
    const input = await countPrompt(ctx.anthropicCounter, messages, { model, tools });
    const admission = admitAnthropic(ctx, req, key, { input, output: maxOut });
    if (!admission) return;
    const { sequence, quota } = admission;
    let produced = 0;
    try {
      const reply = composeReply(ctx, {
        model,
        messages,
        tools,
        toolChoice: body.toolChoice,
        maxOut,
        sequence,
      });
      produced = reply.completionTokens;
      ctx.stats.tokens.prompt += input;
      ctx.stats.tokens.completion += reply.completionTokens;
      const usage: AnthropicUsage = {
        input_tokens: input,
        output_tokens: reply.completionTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      };
      const id = `msg_sim_${sequence}`;
      const headers = { ...admission.headers, 'request-id': `req_sim_${sequence}` };
      const delayMs = replyDelayMs(ctx, reply.completionTokens);
      await inFlight(ctx, async () => {
        if (body.stream)
          await streamAnthropicMessage(ctx, res, { headers, id, model, reply, usage, delayMs });
        else if (await sleep(ctx, res, delayMs))
          sendJson(res, 200, anthropicMessage(id, model, reply, usage), headers);
      });
    } finally {
      // The reply has ended (or its caller left, or it failed): output reserved and not produced is given back.
      quota.settleOutput(maxOut - produced, ctx.clock.now());
    }
  },
};
