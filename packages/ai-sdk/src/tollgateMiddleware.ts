// tollgateMiddleware: the tollgate under any AI SDK language model, as a middleware.
import { type ClientEvent, type ClientStats, parseProcessingMs } from '@tollgate/llm-clients';
import type { LanguageModelMiddleware } from 'ai';
import type { Observable } from 'rxjs';
import { Gate } from './Gate.js';
import { governStream } from './governStream.js';
import type { TollgateMiddlewareOptions } from './options.js';
import { readModelUsage } from './usage.js';

/** The middleware, with what it has done so far. */
export type TollgateMiddleware = LanguageModelMiddleware & {
  /** Calls, retries, 429s, header feedback and failures, as they happen. */
  readonly events$: Observable<ClientEvent>;
  /** Running totals of every call through this middleware. */
  readonly stats: Readonly<ClientStats>;
};

/**
 * An AI SDK language-model middleware that passes every model call through Tollgate's
 * governors: before the call, its prompt is counted and `{ requests: 1, tokens: prompt +
 * maxOutputTokens, inputTokens, outputTokens }` is reserved on every governor in order
 * (with the call's abort signal); after, each lease is settled with the reported usage.
 * A streamed call ends the provider hold at its first part and settles at its `finish`
 * part, on error, on cancel or on abort. A 429 puts the provider governor into cooldown
 * for every caller sharing it, and rate-limit headers lower its view of what is left.
 *
 * Set `maxRetries: 0` on the AI SDK call and let the middleware retry (`retry`): its
 * retries wait in the governors' queue, honour a retry-after of any length up to
 * `maxRetryAfterMs`, and are not multiplied by the SDK's own.
 *
 * @example
 * const model = wrapLanguageModel({
 *   model: openai('gpt-4o-mini'),
 *   middleware: tollgateMiddleware({ governors: [provider] }),
 * });
 * await generateText({ model, prompt: 'Hello', maxRetries: 0 });
 *
 * @throws InvalidArgumentError naming every option out of range.
 */
export function tollgateMiddleware(options: TollgateMiddlewareOptions): TollgateMiddleware {
  const gate = new Gate(options);
  return {
    specificationVersion: 'v3',
    events$: gate.events.asObservable(),
    stats: gate.stats,

    // The output reservation is the call's bound: a call that sets none is sent the default.
    transformParams: async ({ params }) => ({
      ...params,
      maxOutputTokens: params.maxOutputTokens ?? gate.defaultMaxTokens,
    }),

    wrapGenerate: async ({ doGenerate, params, model }) => {
      const reservation = gate.reservation(params, model);
      return gate.run(reservation, params.abortSignal, model.provider, async (toll, context) => {
        const result = await doGenerate();
        // The provider counted the call at least its processing time ago, if it said.
        toll.endHold(parseProcessingMs(result.response?.headers));
        const read = readModelUsage(result.usage, {
          inputTokens: reservation.promptTokens,
          outputTokens: reservation.maxTokens,
        });
        if (!read.complete)
          gate.logger.warn('a model reported no full usage: charged the reservation', { ...read.usage });
        gate.succeeded(toll, read.usage, context);
        gate.feedback(result.response?.headers, context.atSend, model.provider);
        return result;
      });
    },

    wrapStream: async ({ doStream, params, model }) => {
      const reservation = gate.reservation(params, model);
      const signal = params.abortSignal;
      return gate.run(reservation, signal, model.provider, async (toll, context) => {
        const result = await doStream();
        // The reply has started (its headers are in): the provider has counted the call, so
        // its window counts from now (or its processing time ago, if it said), not from
        // when the SDK reads the first part.
        toll.endHold(parseProcessingMs(result.response?.headers));
        gate.feedback(result.response?.headers, context.atSend, model.provider);
        const call = { gate, toll, reservation, context, signal, modelId: model.modelId };
        return { ...result, stream: governStream(result.stream, call) };
      });
    },
  };
}
