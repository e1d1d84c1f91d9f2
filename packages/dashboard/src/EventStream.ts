// Server-Sent Events to every open page: named events, a heartbeat, and a clean end.
import type { ServerResponse } from 'node:http';

/** The pages connected to `/events`. */
export class EventStream {
  readonly #clients = new Set<ServerResponse>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor(heartbeatMs: number) {
    this.#heartbeat = setInterval(() => this.#write(': heartbeat\n\n'), heartbeatMs);
    this.#heartbeat.unref();
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Starts an event stream on `response` and sends it `first`. */
  open(response: ServerResponse, first: { readonly event: string; readonly data: unknown }): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    response.write('retry: 1000\n\n');
    response.write(format(first.event, first.data));
    this.#clients.add(response);
    response.on('close', () => this.#clients.delete(response));
  }

  /** Sends one event to every page. */
  send(event: string, data: unknown): void {
    if (this.#clients.size > 0) this.#write(format(event, data));
  }

  /** Ends every stream. */
  close(): void {
    clearInterval(this.#heartbeat);
    for (const c of this.#clients) c.end();
    this.#clients.clear();
  }

  #write(text: string): void {
    for (const c of this.#clients) c.write(text);
  }
}

const format = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
