// Passes an SSE stream through byte for byte while reading its text and usage on the side.
import { Readable } from 'node:stream';
import { openaiProtocol } from './protocols/openaiProtocol.js';
import type { ProviderProtocol, RawUsage, StreamReading } from './protocols/ProviderProtocol.js';

/** What a streamed reply said, as far as it got. */
export interface StreamOutcome {
  /** The text and tool-call fragments streamed, for counting when no usage came. */
  readonly text: string;
  /** The usage the stream told (OpenAI's `stream_options.include_usage` chunk), if any. */
  readonly usage: RawUsage | undefined;
  /** Whether `data: [DONE]` arrived. */
  readonly done: boolean;
  readonly error: unknown;
}

/** Hooks of {@link tapSse}. */
export interface SseTapHooks {
  /** The first bytes arrived: the provider has counted the call. */
  onFirstChunk(): void;
  /** The stream ended (completed, failed or abandoned by the client): called once. */
  onEnd(outcome: StreamOutcome): void;
  /**
   * The error the upstream read failed with, sent to the client in a closing event in the
   * API's own error shape (so it can tell a provider timeout from a network fault).
   */
  describeError(error: unknown): { message: string; code: string };
}

function readEvent(line: string, into: StreamReading, protocol: ProviderProtocol): void {
  if (!line.startsWith('data:')) return;
  const data = line.slice(5).trim();
  if (data === '[DONE]') {
    into.done = true;
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return; // Not JSON: passed through as it is, read as nothing.
  }
  protocol.readStreamData(parsed, into);
}

/** The closing event of a stream the upstream broke off, after a blank line ending any event in progress. */
function errorEvent(event: string, midLine: boolean): Buffer {
  return Buffer.from(`${midLine ? '\n\n' : '\n'}${event}`);
}

/**
 * A Node stream of `body`'s bytes, unchanged, reading each `data:` event on the side. When
 * the upstream read fails (stall past the time limit, reset) the stream ends cleanly with an
 * error event instead of a reset socket. Ends the upstream read when the client goes away
 * (`destroy`).
 */
export function tapSse(
  body: ReadableStream<Uint8Array>,
  hooks: SseTapHooks,
  protocol: ProviderProtocol = openaiProtocol,
): Readable {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parsed: StreamReading = { text: '', usage: undefined, done: false };
  let pending = '';
  let first = true;
  let ended = false;
  const end = (error: unknown) => {
    if (ended) return;
    ended = true;
    if (pending) readEvent(pending, parsed, protocol);
    hooks.onEnd({ ...parsed, error });
  };
  return new Readable({
    async read() {
      try {
        const { value, done } = await reader.read();
        if (done) {
          end(undefined);
          this.push(null);
          return;
        }
        if (first) hooks.onFirstChunk();
        first = false;
        pending += decoder.decode(value, { stream: true });
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) readEvent(line.replace(/\r$/, ''), parsed, protocol);
        this.push(Buffer.from(value));
      } catch (error) {
        const midLine = pending !== '';
        end(error);
        this.push(errorEvent(protocol.streamErrorEvent(hooks.describeError(error)), midLine));
        this.push(null);
      }
    },
    destroy(error, callback) {
      end(error ?? new Error('the client closed the stream'));
      reader.cancel().catch(() => {});
      callback(null);
    },
  });
}
