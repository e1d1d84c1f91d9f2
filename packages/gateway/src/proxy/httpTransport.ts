// Upstream calls over node:http with a keep-alive agent: a time limit per wait, not per reply.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/** One upstream request, as `callUpstream` makes it. */
export interface TransportRequest {
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  readonly signal: AbortSignal;
  /** Longest silence of the provider: before the reply starts, and between its chunks, ms. */
  readonly idleTimeoutMs: number;
}

/** Keep-alive agents, one per origin kind, shared by every upstream of this process. */
const agents = {
  http: new HttpAgent({ keepAlive: true, scheduling: 'lifo' }),
  https: new HttpsAgent({ keepAlive: true, scheduling: 'lifo' }),
};

/** The error a silent provider's request ends with (its `name` tells timeouts apart). */
export function idleTimeoutError(ms: number): Error {
  const error = new Error(`the provider sent nothing for ${ms} ms`);
  error.name = 'TimeoutError';
  return error;
}

function headersOf(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // A header value fetch would refuse is dropped, as fetch drops it.
    }
  }
  return headers;
}

/** Reads a whole (non-streamed) reply, so the caller's `text()` costs no stream machinery. */
function whole(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('the provider closed the connection mid-reply')));
  });
}

async function toResponse(res: IncomingMessage, method: string): Promise<Response> {
  const status = res.statusCode ?? 502;
  const init = { status, statusText: res.statusMessage ?? '', headers: headersOf(res) };
  if (status === 204 || status === 304 || method === 'HEAD') {
    res.resume();
    return new Response(null, init);
  }
  if ((res.headers['content-type'] ?? '').includes('text/event-stream'))
    return new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, init);
  return new Response(await whole(res), init);
}

/**
 * Sends one request over a keep-alive agent and resolves with a fetch `Response` (a streamed
 * body for SSE, the whole body otherwise). Rejects when the provider is silent for
 * `idleTimeoutMs` before the reply starts (`TimeoutError`), when `signal` fires, or when the
 * connection fails; a stream that goes silent later fails its body with a `TimeoutError`.
 */
export function sendOverAgent(url: URL, request: TransportRequest): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const secure = url.protocol === 'https:';
    let response: IncomingMessage | undefined;
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      { method: request.method, headers: request.headers, agent: secure ? agents.https : agents.http },
      (res) => {
        response = res;
        toResponse(res, request.method).then(resolve, reject);
      },
    );
    const fail = (error: Error) => {
      if (response) response.destroy(error);
      req.destroy(error);
    };
    req.setTimeout(request.idleTimeoutMs, () => fail(idleTimeoutError(request.idleTimeoutMs)));
    const onAbort = () =>
      fail(request.signal.reason instanceof Error ? request.signal.reason : new Error('aborted'));
    if (request.signal.aborted) onAbort();
    else request.signal.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => request.signal.removeEventListener('abort', onAbort));
    req.on('error', reject);
    req.end(request.body);
  });
}
