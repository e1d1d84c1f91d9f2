// Forwards chat completions through the governors: estimate, admit, call, settle, record.
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Logger, TokenCounter, Usage } from '@tollgate/core';
import type { Governor, GovernorLease } from '@tollgate/limits';
import {
  type CircuitBreaker,
  CircuitOpenError,
  type CircuitPermit,
  parseProcessingMs,
  processingAgoMs,
  readUsage,
  retryAfterMs,
} from '@tollgate/llm-clients';
import type { Principal } from '../auth/Principal.js';
import { HttpError } from '../errors.js';
import type { Admission, Governance } from '../governance/Governance.js';
import { rateLimitHeaders, retryAfterHeaders } from '../governance/rateLimitHeaders.js';
import type { UsageRecorder } from '../keys/UsageRecorder.js';
import type { ChatCompletionBody } from './chatBody.js';
import { openaiProtocol } from './protocols/openaiProtocol.js';
import { countPrompt, type ForwardRequest, type ProviderProtocol } from './protocols/ProviderProtocol.js';
import { type StreamOutcome, tapSse } from './sseTap.js';
import { callUpstream, passedHeaders, type UpstreamTarget } from './upstream.js';

/** What the route sends back. */
export interface ProxyReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Readable;
}

/** Options of {@link ChatProxy}. */
export interface ChatProxyOptions {
  readonly upstream: UpstreamTarget;
  readonly governance: Governance;
  readonly breaker: CircuitBreaker;
  readonly usage: UsageRecorder;
  readonly counter: TokenCounter;
  readonly defaultMaxTokens: number;
  /** Attempts when the provider answers 429. */
  readonly maxAttempts: number;
  /** `admission`: the provider charges prompt + max_tokens when it admits a call. */
  readonly charging: 'admission' | 'usage';
  /** The longest cooldown a provider's 429 may impose, ms. @default 60_000 */
  readonly maxRetryAfterMs?: number | undefined;
  readonly costOf: (model: string, usage: Usage) => number;
  readonly logger: Logger;
  /** The provider's API. @default openaiProtocol */
  readonly protocol?: ProviderProtocol | undefined;
  /** The governor of this upstream's quota. @default governance.provider */
  readonly provider?: Governor | undefined;
}

/** The error event closing a stream the provider broke off: a stall past the time limit or a fault. */
function streamError(error: unknown, timeoutMs: number): { message: string; code: string } {
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  return timedOut
    ? {
        message: `The provider's stream did not finish within ${timeoutMs} ms; the answer is incomplete.`,
        code: 'upstream_timeout',
      }
    : {
        message: "The provider's stream broke off; the answer is incomplete.",
        code: 'upstream_stream_failed',
      };
}

/**
 * Reads a whole reply body; a body cut mid-way becomes a 502 and one stalled past the time
 * limit a 504, as when the provider could not be reached or did not answer.
 */
async function readBody(response: Response, timeoutMs: number, signal: AbortSignal): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    if (signal.aborted) throw error;
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    throw new HttpError(
      timedOut ? 504 : 502,
      timedOut ? 'upstream_timeout' : 'upstream_body_failed',
      timedOut
        ? `The provider's reply did not finish within ${timeoutMs} ms.`
        : "The provider's reply broke off before its end.",
      { type: 'server_error', cause: error },
    );
  }
}

/** One request's reservation and what is known of it. */
interface Call {
  readonly principal: Principal;
  readonly request: ForwardRequest;
  readonly prompt: number;
  readonly maxTokens: number;
  readonly estimate: number;
  readonly admission: Admission;
  forwarded: boolean;
}

/**
 * The gateway's version of `GovernedClient`'s loop for requests it does not parse: count
 * prompt tokens + max output tokens, pass the key's governor (429 over its limit), then the
 * provider's (held until the reply starts), send the body unchanged, settle both with the
 * reported usage. A provider 429 cools the provider governor down for every client and
 * the request queues again, up to `maxAttempts`.
 */
export class ChatProxy {
  readonly #o: ChatProxyOptions;
  readonly #protocol: ProviderProtocol;
  readonly #provider: Governor;

  constructor(options: ChatProxyOptions) {
    this.#o = options;
    this.#protocol = options.protocol ?? openaiProtocol;
    this.#provider = options.provider ?? options.governance.provider;
  }

  /** Where this proxy forwards to. */
  get upstream(): UpstreamTarget {
    return this.#o.upstream;
  }

  /** Answers one OpenAI chat completion request of `principal`. Every path settles and releases its leases. */
  chat(principal: Principal, body: ChatCompletionBody, signal: AbortSignal): Promise<ProxyReply> {
    return this.forward(principal, { path: '/chat/completions', body, model: body.model }, signal);
  }

  /** Answers one request of `principal` in this proxy's protocol. Every path settles and releases its leases. */
  async forward(principal: Principal, request: ForwardRequest, signal: AbortSignal): Promise<ProxyReply> {
    const maxTokens = this.#protocol.maxOutputTokens(request) ?? this.#o.defaultMaxTokens;
    const prompt = countPrompt(this.#protocol, request, this.#o.counter);
    const estimate = prompt + maxTokens;
    let admission: Admission;
    try {
      admission = await this.#o.governance.admitKey(principal, estimate, signal);
    } catch (error) {
      if (HttpError.is(error) && error.status === 429) this.#o.usage.record(principal.id, { rejected: 1 });
      throw error;
    }
    const call: Call = { principal, request, prompt, maxTokens, estimate, admission, forwarded: false };
    let streaming = false;
    try {
      const reply = await this.#attempts(call, signal);
      streaming = typeof reply.body !== 'string';
      return reply;
    } catch (error) {
      this.#endKey(call, undefined);
      throw error;
    } finally {
      if (!streaming) admission.keyLease.release();
    }
  }

  async #attempts(call: Call, signal: AbortSignal): Promise<ProxyReply> {
    for (let attempt = 1; ; attempt++) {
      let permit: CircuitPermit;
      try {
        permit = this.#o.breaker.check();
      } catch (error) {
        if (!CircuitOpenError.is(error)) throw error;
        throw new HttpError(
          503,
          'upstream_unavailable',
          'The provider is failing; the gateway is not calling it for now.',
          {
            type: 'server_error',
            headers: retryAfterHeaders(error.retryAfterMs),
          },
        );
      }
      const lease = await this.#o.governance
        .admitProvider(
          { tokens: call.estimate, inputTokens: call.prompt, outputTokens: call.maxTokens },
          signal,
          call.principal.name,
          this.#provider,
        )
        .catch((error: unknown) => {
          permit.neutral();
          throw error;
        });
      const reply = await this.#attempt(call, lease, permit, signal);
      if (reply !== 'retry') return reply;
      if (attempt >= this.#o.maxAttempts) return this.#tooMany(call);
    }
  }

  /** One call upstream; `'retry'` after a 429 that cooled the provider governor down. */
  async #attempt(
    call: Call,
    lease: GovernorLease,
    permit: CircuitPermit,
    signal: AbortSignal,
  ): Promise<ProxyReply | 'retry'> {
    let response: Response;
    const sentAt = performance.now();
    try {
      response = await callUpstream(this.#o.upstream, call.request.path, {
        method: 'POST',
        body: JSON.stringify(call.request.body),
        headers: { ...this.#protocol.defaultHeaders, ...call.request.headers },
        signal,
      });
    } catch (error) {
      // It may have reached the provider: keep the provider's reservation, as GovernedClient does.
      lease.settle({ tokens: call.estimate });
      lease.release();
      if (signal.aborted) permit.neutral();
      else permit.failure();
      throw error;
    }
    call.forwarded = true;
    if (response.status === 429) return this.#onRateLimited(response, lease, permit);
    if (!response.ok) return this.#failed(call, response, lease, permit, signal);
    permit.success();
    // Its headers are in: the provider has counted the call, at least its processing time ago.
    lease.endHold(processingAgoMs(parseProcessingMs(response.headers), performance.now() - sentAt));
    const streamed = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    if (streamed && response.body) return this.#stream(call, response, lease);
    return this.#whole(call, response, lease, signal);
  }

  async #onRateLimited(response: Response, lease: GovernorLease, permit: CircuitPermit): Promise<'retry'> {
    const text = await response.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const asked = retryAfterMs(response.headers, parsed);
    const max = this.#o.maxRetryAfterMs ?? 60_000;
    const wait = asked !== undefined && asked >= 0 && Number.isFinite(asked) ? Math.min(asked, max) : 1_000;
    this.#provider.cooldown(wait, 'the provider answered 429');
    this.#o.logger.warn('the provider answered 429: every client waits', { retryAfterMs: wait });
    lease.settle({ requests: 0, tokens: 0 }); // not admitted
    lease.release();
    permit.neutral();
    return 'retry';
  }

  #tooMany(call: Call): ProxyReply {
    const headers = { ...this.#keyHeaders(call), ...retryAfterHeaders(1_000) };
    const error = new HttpError(
      429,
      'upstream_rate_limited',
      'The provider kept answering 429; try again later.',
      {
        type: 'requests',
      },
    );
    return {
      status: 429,
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(error),
    };
  }

  async #failed(
    call: Call,
    response: Response,
    lease: GovernorLease,
    permit: CircuitPermit,
    signal: AbortSignal,
  ): Promise<ProxyReply> {
    const read = await readBody(response, this.#o.upstream.timeoutMs, signal).then(
      (text) => ({ text }),
      (error: unknown) => ({ error }),
    );
    const status = response.status;
    // A 4xx was refused before the provider counted it; a 5xx may have been counted.
    if (status < 500) lease.settle({ requests: 0, tokens: 0 });
    else lease.settle({ tokens: call.estimate });
    lease.release();
    if (status >= 500) permit.failure();
    else permit.neutral();
    // The client made a request that reached the provider and used no tokens.
    call.admission.keyLease.settle({ tokens: 0 });
    this.#o.usage.record(call.principal.id, { requests: 1 });
    if ('error' in read) throw read.error;
    return {
      status,
      headers: { ...passedHeaders(response, this.#protocol), ...this.#keyHeaders(call) },
      body: read.text,
    };
  }

  async #whole(
    call: Call,
    response: Response,
    lease: GovernorLease,
    signal: AbortSignal,
  ): Promise<ProxyReply> {
    let text: string;
    try {
      text = await readBody(response, this.#o.upstream.timeoutMs, signal);
    } catch (error) {
      // The provider answered and may have counted it: settle on the estimate.
      this.#settle(call, lease, undefined);
      throw error;
    }
    let usage: Usage | undefined;
    try {
      const read = readUsage(
        this.#protocol.replyUsage(JSON.parse(text)),
        { provider: 'upstream' },
        call.maxTokens,
      );
      usage = 'promptTokens' in read ? read : undefined;
    } catch {
      usage = undefined;
    }
    this.#settle(call, lease, usage);
    return {
      status: response.status,
      headers: { ...passedHeaders(response, this.#protocol), ...this.#keyHeaders(call) },
      body: text,
    };
  }

  #stream(call: Call, response: Response, lease: GovernorLease): ProxyReply {
    const body = tapSse(
      response.body!,
      {
        onFirstChunk: () => lease.endHold(),
        onEnd: (outcome) => {
          this.#settle(call, lease, this.#streamUsage(call, outcome));
          call.admission.keyLease.release();
        },
        describeError: (error) => streamError(error, this.#o.upstream.timeoutMs),
      },
      this.#protocol,
    );
    return {
      status: response.status,
      headers: { ...passedHeaders(response, this.#protocol), ...this.#keyHeaders(call) },
      body,
    };
  }

  #streamUsage(call: Call, outcome: StreamOutcome): Usage {
    const read = outcome.usage && readUsage(outcome.usage, { provider: 'upstream' }, call.maxTokens);
    if (read && 'promptTokens' in read) return read;
    const completionTokens = Math.min(
      call.maxTokens,
      this.#o.counter.countText(outcome.text, { model: call.request.model }),
    );
    return { promptTokens: call.prompt, completionTokens, totalTokens: call.prompt + completionTokens };
  }

  /** Settles both leases with what was used (the estimate when the reply did not say) and records it. */
  #settle(call: Call, lease: GovernorLease, usage: Usage | undefined): void {
    const providerTokens =
      usage === undefined
        ? call.estimate
        : this.#o.charging === 'admission'
          ? usage.promptTokens + call.maxTokens
          : usage.promptTokens + usage.completionTokens;
    const output = this.#o.charging === 'admission' ? call.maxTokens : usage?.completionTokens;
    lease.settle(
      usage === undefined
        ? { tokens: providerTokens }
        : { tokens: providerTokens, inputTokens: usage.promptTokens, outputTokens: output },
    );
    lease.release();
    this.#endKey(call, usage);
  }

  /** Settles the key's lease once: with the usage, or (no reply) with the request alone if it went out. */
  #endKey(call: Call, usage: Usage | undefined): void {
    const lease = call.admission.keyLease;
    if (lease.settled) return;
    if (usage) {
      lease.settle({ tokens: usage.promptTokens + usage.completionTokens });
      const costUsd = this.#o.costOf(call.request.model, usage);
      this.#o.usage.record(call.principal.id, { requests: 1, ...usage, costUsd });
    } else {
      lease.settle(call.forwarded ? { tokens: call.estimate } : { requests: 0, tokens: 0 });
      if (call.forwarded) this.#o.usage.record(call.principal.id, { requests: 1 });
    }
  }

  #keyHeaders(call: Call): Record<string, string> {
    return rateLimitHeaders(call.admission.keyGovernor.checkResourceAvailability());
  }
}
