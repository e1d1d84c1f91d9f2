// Rendering in Gemini's protocol: the response, its SSE chunks and the `google.rpc` error body.
import type { ServerResponse } from 'node:http';
import type { Reply } from '../compose.js';
import type { SimulatorContext } from '../context.js';
import { sleep } from '../delivery.js';
import type { HttpError } from '../HttpError.js';
import { sendJson } from './json.js';

/** Gemini's `usageMetadata`. */
export interface GeminiUsage {
  readonly promptTokenCount: number;
  readonly candidatesTokenCount: number;
  readonly totalTokenCount: number;
}

const STATUSES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** The `quotaId` of a refusal, by the kind the admission gave it. */
const QUOTA_IDS: Readonly<Record<string, string>> = {
  requests: 'GenerateRequestsPerMinutePerProjectPerModel',
  tokens: 'GenerateContentInputTokensPerModelPerMinute',
  insufficient_quota: 'GenerateRequestsPerDayPerProjectPerModel',
};

const TYPE = 'type.googleapis.com/google.rpc.';

/**
 * Answers with Gemini's error body `{ error: { code, message, status, details } }`. A 429 is
 * `RESOURCE_EXHAUSTED` with a `QuotaFailure` violation whose `quotaId` names the window
 * (per minute for requests or input tokens, per day for a used-up `requestBudget`) and,
 * unless the quota is per day, a `RetryInfo.retryDelay` such as `"26s"` (whole seconds,
 * rounded up). No rate-limit headers: Gemini sends none.
 */
export function sendGeminiError(res: ServerResponse, error: HttpError): void {
  const status = STATUSES[error.status] ?? 'UNKNOWN';
  const details: unknown[] = [];
  if (error.status === 429) {
    const quotaId = QUOTA_IDS[error.type] ?? QUOTA_IDS.requests;
    const violation = { quotaMetric: 'generativelanguage.googleapis.com/generate_requests', quotaId };
    details.push({ '@type': `${TYPE}QuotaFailure`, violations: [violation] });
    const ms = Number(error.headers['retry-after-ms']);
    if (error.type !== 'insufficient_quota' && Number.isFinite(ms)) {
      details.push({ '@type': `${TYPE}RetryInfo`, retryDelay: `${Math.max(1, Math.ceil(ms / 1000))}s` });
    }
  }
  const body = {
    error: { code: error.status, message: error.message, status, ...(details.length ? { details } : {}) },
  };
  sendJson(res, error.status, body);
}

const FINISH = { tool_calls: 'STOP', length: 'MAX_TOKENS', stop: 'STOP' } as const;

/** The parts of a reply: its text, or its tool calls as `functionCall`s. */
function partsOf(reply: Reply): Array<Record<string, unknown>> {
  if (!reply.toolCalls) return [{ text: reply.content ?? '' }];
  return reply.toolCalls.map((c) => ({
    functionCall: { id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) as unknown },
  }));
}

/** A `GenerateContentResponse` of `parts`, with `finishReason` and usage when given. */
function response(id: string, model: string, parts: unknown[], finish?: string, usage?: GeminiUsage) {
  const candidate = {
    content: { parts, role: 'model' },
    index: 0,
    ...(finish ? { finishReason: finish } : {}),
  };
  return {
    candidates: [candidate],
    ...(usage ? { usageMetadata: usage } : {}),
    modelVersion: model,
    responseId: id,
  };
}

/** A whole `generateContent` response. */
export function geminiResponse(id: string, model: string, reply: Reply, usage: GeminiUsage): unknown {
  return response(id, model, partsOf(reply), FINISH[reply.finishReason], usage);
}

/** How one streamed response is sent. */
export interface GeminiStream {
  readonly headers: Record<string, string>;
  readonly id: string;
  readonly model: string;
  readonly reply: Reply;
  readonly usage: GeminiUsage;
  readonly delayMs: number;
}

/**
 * Streams a response as `streamGenerateContent?alt=sse` does: `data:` chunks of text (word
 * by word) or function calls, the last one with `finishReason` and `usageMetadata`.
 */
export async function streamGeminiResponse(
  ctx: SimulatorContext,
  res: ServerResponse,
  { headers, id, model, reply, usage, delayMs }: GeminiStream,
): Promise<boolean> {
  const pieces = reply.toolCalls
    ? [partsOf(reply)]
    : (reply.content ?? '').split(/(?<= )/).map((text) => [{ text }]);
  const step = delayMs / pieces.length;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  for (const [i, parts] of pieces.entries()) {
    if (!(await sleep(ctx, res, step))) return false;
    const last = i === pieces.length - 1;
    const chunk = last
      ? response(id, model, parts, FINISH[reply.finishReason], usage)
      : response(id, model, parts);
    res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
  }
  res.end();
  return true;
}
