// A WebSocket watcher for tests: collects a conversation's messages until it ends or closes.
import WebSocket from 'ws';
import type { StreamMessage } from '../conversations/messages.js';

/** A connected watcher. */
export interface Watcher {
  readonly messages: StreamMessage[];
  /** Resolves when the server closes the socket, with its close code. */
  readonly closed: Promise<number>;
  /** Resolves once `n` messages have arrived. */
  received(n: number): Promise<void>;
  /** Resolves once a message of `type` has arrived. */
  receivedType(type: StreamMessage['type']): Promise<void>;
  close(): void;
}

/** Opens `/ws/{id}` with `key`; rejects with the HTTP status when the upgrade is refused. */
export function watch(baseUrl: string, id: string, key: string | undefined): Promise<Watcher> {
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws/${id}`, {
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
  });
  const messages: StreamMessage[] = [];
  const waiting: { done: () => boolean; resolve: () => void }[] = [];
  const until = (done: () => boolean) =>
    done() ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ done, resolve }));
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as StreamMessage);
    for (const w of waiting.splice(0)) {
      if (w.done()) w.resolve();
      else waiting.push(w);
    }
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (_request, response) => {
      reject(
        Object.assign(new Error(`upgrade refused: ${response.statusCode}`), { status: response.statusCode }),
      );
      socket.terminate();
    });
    socket.once('error', reject);
    socket.once('open', () =>
      resolve({
        messages,
        closed,
        received: (n) => until(() => messages.length >= n),
        receivedType: (type) => until(() => messages.some((m) => m.type === type)),
        close: () => socket.close(),
      }),
    );
  });
}
