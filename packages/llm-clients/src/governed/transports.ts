// How one attempt talks to the provider: a whole reply, a streamed reply assembled, or a stream passed on.
import { abortReason, type Usage } from '@tollgate/core';
import type { Observable, Subscriber, Subscription } from 'rxjs';
import { assembleChunks } from '../assemble.js';
import { MalformedResponseError } from '../errors.js';
import type { ChatChunk, ChatRequest, ChatResponse, LLMClient, RateLimitInfo } from '../types.js';

/** What a provider sent back for one attempt, before its usage is checked. */
export interface Sent<T> {
  readonly value: T;
  readonly usage: Usage | undefined;
  readonly rateLimit: RateLimitInfo | undefined;
}

/** How one attempt calls the provider. One transport serves one attempt. */
export interface Transport<T> {
  /**
   * Calls the provider; `started` is called when a streamed reply's first chunk arrives,
   * with how long the provider said it had the request then (`RateLimitInfo.processingMs`).
   * Rejects with the provider's error, or with the abort reason once `signal` aborts.
   */
  send(signal: AbortSignal | undefined, started: Started): Promise<Sent<T>>;
  /** Whether part of the reply reached the caller: a failure then cannot be retried. */
  readonly delivered: boolean;
  /**
   * What to charge when the attempt fails after part of its reply reached the caller (or
   * the caller stopped it); `undefined` when a failure is refunded.
   */
  partialUsage(): Usage | undefined;
}

/** Called at a streamed reply's first chunk, with the provider's processing time if it said. */
export type Started = (processingMs?: number) => void;

/** Counts the usage of streamed text when a reply reports none. */
export type CountUsage = (streamedText: string) => Usage;

/** One request, one reply. */
export function wholeTransport(inner: LLMClient, request: ChatRequest): Transport<ChatResponse> {
  return {
    delivered: false,
    partialUsage() {
      return undefined;
    },
    async send(signal) {
      const reply = await inner.chat(request, { signal });
      return { value: reply, usage: reply.usage, rateLimit: reply.rateLimit };
    },
  };
}

/** The reply streamed and assembled into the `ChatResponse` a whole reply would have been. */
export function assembledTransport(
  inner: LLMClient,
  request: ChatRequest,
  model: string,
  countUsage: CountUsage,
): Transport<ChatResponse> {
  return {
    delivered: false,
    partialUsage() {
      return undefined;
    },
    async send(signal, started) {
      const chunks: ChatChunk[] = [];
      await collect(inner.stream(request, { signal }), signal, (chunk) => {
        if (chunks.length === 0) started(chunk.rateLimit?.processingMs);
        chunks.push(chunk);
      });
      if (chunks.length === 0) {
        throw new MalformedResponseError('the stream ended without a reply', { provider: inner.provider });
      }
      const reply = assembleChunks(chunks, { model, usage: countUsage });
      return { value: reply, usage: reply.usage, rateLimit: reply.rateLimit };
    },
  };
}

/**
 * The reply's chunks passed on to `subscriber` as they come. Once one is passed on, or once
 * the subscriber has stopped (`cancelled`), a failure is charged with what was produced.
 */
export function forwardingTransport(
  inner: LLMClient,
  request: ChatRequest,
  subscriber: Subscriber<ChatChunk>,
  countUsage: CountUsage,
  cancelled: () => boolean,
): Transport<void> {
  let delivered = false;
  let text = '';
  let usage: Usage | undefined;
  let rateLimit: RateLimitInfo | undefined;
  const onChunk = (chunk: ChatChunk, started: Started) => {
    // The reply has started, so the provider has counted the call: its window counts from
    // now, not from the end of a stream that may take seconds.
    if (!delivered) started(chunk.rateLimit?.processingMs);
    delivered = true;
    text += chunk.content ?? '';
    for (const d of chunk.toolCallDeltas ?? []) text += (d.name ?? '') + (d.arguments ?? '');
    usage = chunk.usage ?? usage;
    rateLimit ??= chunk.rateLimit;
    subscriber.next(chunk);
  };
  return {
    get delivered() {
      return delivered;
    },
    partialUsage: () => (delivered || cancelled() ? (usage ?? countUsage(text)) : undefined),
    async send(signal, started) {
      await collect(inner.stream(request, { signal }), signal, (chunk) => onChunk(chunk, started));
      return { value: undefined, usage: usage ?? countUsage(text), rateLimit };
    },
  };
}

/**
 * Subscribes to `chunks` until they complete. Rejects with their error, or with the abort
 * reason as soon as `signal` aborts (unsubscribing), so an attempt never hangs on a stream
 * that stops without ending.
 */
export function collect(
  chunks: Observable<ChatChunk>,
  signal: AbortSignal | undefined,
  onChunk: (chunk: ChatChunk) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    let subscription: Subscription | undefined;
    let ended = false;
    const end = () => {
      ended = true;
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      end();
      subscription?.unsubscribe();
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    subscription = chunks.subscribe({
      next: onChunk,
      error: (error: unknown) => {
        end();
        reject(error);
      },
      complete: () => {
        end();
        resolve();
      },
    });
    if (ended) subscription.unsubscribe(); // it ended (or was aborted) while subscribing
  });
}
