import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Clock,
  type CountableMessage,
  SystemClock,
  TiktokenCounter,
  type TokenCounter,
} from '@tollgate/core';
import { countPrompt } from './countPrompt.js';
import { HttpError } from './HttpError.js';
import { checkSimulatorOptions, SIMULATOR_DEFAULTS, type SimulatorOptions } from './options.js';
import { KeyQuota, type RateLimitHeaders } from './quota.js';
import { hash, Random } from './Random.js';
import { type ChatBody, parseChatBody, readBody } from './request.js';
import { generateText, sampleArguments } from './responses.js';
import { emptyStats, type SimulatorStats } from './stats.js';

/** A running simulator. */
export interface Simulator {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `url + '/v1'`: what an OpenAI client takes as `baseURL`. */
  readonly baseURL: string;
  readonly port: number;
  /** A copy of the counters. */
  stats(): SimulatorStats;
  /** Zeroes the counters and forgets every key's quota usage. */
  reset(): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Starts an OpenAI-compatible provider on 127.0.0.1 that behaves like a real one under
 * load: strict per-key request and token windows with real 429s and rate-limit headers,
 * deterministic responses (tool calls included), a latency model and fault injection.
 *
 * @example
 * const sim = await startSimulator({ quota: { requestsPerWindow: 7, windowMs: 1_000 } });
 * const client = new OpenAI({ baseURL: sim.baseURL, apiKey: 'sk-test', maxRetries: 0 });
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  checkSimulatorOptions(options);
  const d = SIMULATOR_DEFAULTS;
  const maxBodyBytes = options.maxBodyBytes ?? d.maxBodyBytes;
  const maxOutputTokens = options.maxOutputTokens ?? d.maxOutputTokens;
  const clock: Clock = options.clock ?? new SystemClock();
  const counter: TokenCounter = options.tokenCounter ?? new TiktokenCounter();
  const seed = options.seed ?? d.seed;
  const faults = options.faults ?? {};
  const latency = { ttftMs: d.ttftMs, perTokenMs: d.perTokenMs, jitter: d.jitter, ...options.latency };
  const [minCompletion, maxCompletion] = options.completionTokens ?? d.completionTokens;
  const toolTurns = options.toolTurns ?? d.toolTurns;
  const apiKeys = new Set(options.apiKeys ?? []);
  const models = options.models ?? d.models;
  let random = new Random(seed);
  let quotas = new Map<string, KeyQuota>();
  let stats = emptyStats();
  let sequence = 0;
  let inFlight = 0;

  const quotaFor = (key: string) => {
    let quota = quotas.get(key);
    if (!quota) {
      quota = new KeyQuota(options.quota ?? {}, d.windowMs);
      quotas.set(key, quota);
    }
    return quota;
  };
  const jittered = (ms: number) => ms * (1 - latency.jitter + 2 * latency.jitter * random.next());

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else if (error instanceof HttpError) sendError(res, error);
      else sendError(res, new HttpError(500, 'server_error', null, `simulator failure: ${String(error)}`));
    });
  });
  server.keepAliveTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/stats') return sendJson(res, 200, snapshot());
    if (req.method === 'GET' && url.pathname === '/health') return sendJson(res, 200, { ok: true });
    const key = authenticate(req, url.pathname === '/v1/chat/completions');
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'tollgate-simulator' })),
      });
    }
    if (req.method === 'POST' && url.pathname === '/v1/chat/completions') return chat(req, res, key);
    throw new HttpError(
      404,
      'invalid_request_error',
      'not_found',
      `Unknown route ${req.method} ${url.pathname}`,
    );
  }

  function authenticate(req: IncomingMessage, counted: boolean): string {
    if (counted) stats.requests++;
    const key = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    if (!key || (apiKeys.size > 0 && !apiKeys.has(key))) {
      stats.unauthorized++;
      throw new HttpError(401, 'invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.');
    }
    return key;
  }

  async function chat(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    let body: ChatBody;
    try {
      body = parseChatBody(await readBody(req, maxBodyBytes));
    } catch (error) {
      if (error instanceof HttpError) stats.badRequests++;
      throw error;
    }
    const { model, messages, tools } = body;
    const asked = body.max_completion_tokens ?? body.max_tokens;
    const maxOut = asked ?? options.defaultMaxTokens ?? d.defaultMaxTokens;
    if (typeof maxOut !== 'number' || !Number.isInteger(maxOut) || maxOut < 1 || maxOut > maxOutputTokens) {
      stats.badRequests++;
      throw HttpError.invalid(
        'max_tokens',
        `Invalid 'max_tokens': expected an integer from 1 to ${maxOutputTokens}, got ${JSON.stringify(asked)}.`,
      );
    }
    // Counted before the clock is read: a large prompt is counted over several turns of the loop.
    const promptTokens = await countPrompt(counter, messages, { model, tools });
    const quota = quotaFor(key);
    const now = clock.now();
    if (quota.exhausted) {
      stats.quotaExhausted++;
      throw new HttpError(
        429,
        'insufficient_quota',
        'insufficient_quota',
        'You exceeded your current quota, please check your plan and billing details.',
      );
    }

    // Faults that happen before admission cost the caller nothing.
    if (random.chance(faults.foreign429 ?? 0)) {
      stats.faults.foreign429++;
      const ms = faults.foreign429RetryAfterMs ?? d.foreign429RetryAfterMs;
      throw new HttpError(
        429,
        'requests',
        'rate_limit_exceeded',
        'The server is overloaded (not your quota).',
        {
          ...retryHeaders(ms),
          ...quota.headers(now),
        },
      );
    }
    if (random.chance(faults.error500 ?? 0)) {
      stats.faults.error500++;
      throw new HttpError(
        500,
        'server_error',
        null,
        'The server had an error while processing your request.',
      );
    }
    if (random.chance(faults.error503 ?? 0)) {
      stats.faults.error503++;
      throw new HttpError(503, 'server_error', null, 'The engine is currently overloaded.');
    }
    if (random.chance(faults.reset ?? 0)) {
      stats.faults.reset++;
      req.socket.destroy();
      return;
    }

    const charged = promptTokens + maxOut;
    if (quota.tokenLimit !== undefined && charged > quota.tokenLimit) {
      stats.badRequests++;
      throw new HttpError(
        400,
        'invalid_request_error',
        'request_too_large',
        `Request too large: ${charged} tokens requested, limit ${quota.tokenLimit} per window.`,
      );
    }
    const refusal = quota.check(charged, now);
    if (refusal) {
      stats.rateLimited++;
      throw new HttpError(
        429,
        refusal.kind,
        'rate_limit_exceeded',
        `Rate limit reached for ${refusal.kind}: limit ${refusal.limit}. Please try again in ${Math.ceil(refusal.retryAfterMs)}ms.`,
        { ...retryHeaders(refusal.retryAfterMs), ...quota.headers(now) },
      );
    }
    quota.admit(charged, now);
    stats.admitted++;
    stats.firstAdmissionMs ??= now;
    stats.lastAdmissionMs = now;
    stats.tokens.charged += charged;
    const seen = quota.maxSeen();
    stats.maxRequestsInWindow = Math.max(stats.maxRequestsInWindow, seen.requests);
    stats.maxTokensInWindow = Math.max(stats.maxTokensInWindow, seen.tokens);
    const headers = { ...quota.headers(now), 'x-request-id': `req_sim_${++sequence}` };

    const reply = compose(body, messages, tools, model, maxOut);
    stats.tokens.prompt += promptTokens;
    stats.tokens.completion += reply.completionTokens;
    let delayMs = jittered(latency.ttftMs) + jittered(latency.perTokenMs * reply.completionTokens);
    if (random.chance(faults.slow ?? 0)) {
      stats.faults.slow++;
      delayMs += faults.slowMs ?? d.slowMs;
    }
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: reply.completionTokens,
      total_tokens: promptTokens + reply.completionTokens,
    };
    const base = { id: `chatcmpl-sim-${sequence}`, created: Math.floor(Date.now() / 1000), model };
    inFlight++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, inFlight);
    try {
      if (body.stream === true) {
        await stream(res, headers, base, reply, usage, delayMs, body.stream_options?.include_usage === true);
      } else {
        if (!(await sleep(res, delayMs))) return;
        sendJson(
          res,
          200,
          {
            ...base,
            object: 'chat.completion',
            choices: [
              {
                index: 0,
                message: {
                  role: 'assistant',
                  content: reply.content,
                  refusal: null,
                  ...(reply.toolCalls ? { tool_calls: reply.toolCalls } : {}),
                },
                finish_reason: reply.finishReason,
                logprobs: null,
              },
            ],
            usage,
          },
          headers,
        );
      }
    } finally {
      inFlight--;
    }
  }

  function compose(
    body: ChatBody,
    messages: CountableMessage[],
    tools: NonNullable<ChatBody['tools']>,
    model: string,
    maxOut: number,
  ) {
    const r = new Random(seed ^ hash(JSON.stringify(messages)) ^ hash(model));
    const lastUser = messages.map((m) => m.role).lastIndexOf('user');
    // A turn is an assistant message that called tools; its results follow it.
    const toolTurnsTaken = messages
      .slice(lastUser + 1)
      .filter((m) => m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 0).length;
    const forced =
      typeof body.tool_choice === 'object' && body.tool_choice !== null
        ? (body.tool_choice as { function?: { name?: string } }).function?.name
        : undefined;
    if (tools.length > 0 && body.tool_choice !== 'none' && (toolTurnsTaken < toolTurns || forced)) {
      const tool = tools.find((t) => t.function?.name === forced) ?? tools[r.int(0, tools.length - 1)]!;
      const name = tool.function?.name ?? 'tool';
      const args = JSON.stringify(sampleArguments(tool.function?.parameters as never, r));
      const toolCalls = [
        {
          id: `call_sim_${hash(args + name + sequence).toString(36)}`,
          type: 'function' as const,
          function: { name, arguments: args },
        },
      ];
      return {
        content: null,
        toolCalls,
        finishReason: 'tool_calls' as const,
        completionTokens: counter.countText(name + args) + 4,
      };
    }
    const text = generateText(r, counter, r.int(minCompletion, maxCompletion), maxOut);
    return {
      content: text.text,
      toolCalls: undefined,
      finishReason: text.truncated ? ('length' as const) : ('stop' as const),
      completionTokens: text.tokens,
    };
  }

  async function stream(
    res: ServerResponse,
    headers: RateLimitHeaders,
    base: Record<string, unknown>,
    reply: ReturnType<typeof compose>,
    usage: Record<string, number>,
    delayMs: number,
    includeUsage: boolean,
  ): Promise<void> {
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      ...base,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    });
    const parts: Record<string, unknown>[] = [{ role: 'assistant', content: '' }];
    if (reply.toolCalls) {
      parts.push({ tool_calls: reply.toolCalls.map((c, index) => ({ index, ...c })) });
    } else {
      for (const word of (reply.content ?? '').split(/(?<= )/)) parts.push({ content: word });
    }
    const step = delayMs / parts.length;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
    for (const delta of parts) {
      if (!(await sleep(res, step))) return;
      res.write(`data: ${JSON.stringify(chunk(delta, null))}\n\n`);
    }
    res.write(`data: ${JSON.stringify(chunk({}, reply.finishReason))}\n\n`);
    if (includeUsage)
      res.write(
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`,
      );
    res.end('data: [DONE]\n\n');
  }

  /** Waits `ms` on the simulator's clock; false if the client went away meanwhile. */
  function sleep(res: ServerResponse, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const onClose = () => {
        clock.clearTimeout(timer);
        stats.clientAborts++;
        resolve(false);
      };
      const timer = clock.setTimeout(() => {
        res.off('close', onClose);
        resolve(!res.destroyed);
      }, ms);
      res.once('close', onClose);
    });
  }

  function snapshot(): SimulatorStats {
    return structuredClone(stats);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? d.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? d.host}:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    port,
    stats: snapshot,
    reset() {
      stats = emptyStats();
      quotas = new Map();
      random = new Random(seed);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function retryHeaders(ms: number): Record<string, string> {
  return {
    'retry-after': String(Math.max(1, Math.ceil(ms / 1000))),
    'retry-after-ms': String(Math.ceil(ms)),
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(
    res,
    error.status,
    { error: { message: error.message, type: error.type, param: error.param, code: error.code } },
    error.headers,
  );
}
