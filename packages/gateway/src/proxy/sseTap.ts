// Passes an SSE stream through byte for byte while reading its text and usage on the side.
import { Readable } from 'node:stream';
import type { Usage } from '@tollgate/core';

/** What a streamed reply said, as far as it got. */
export interface StreamOutcome {
  /** The text and tool-call fragments streamed, for counting when no usage came. */
  readonly text: string;
  /** The usage chunk (`stream_options.include_usage`), if one came. */
  readonly usage: Usage | undefined;
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
   * The error the upstream read failed with, as the OpenAI-style `error` object sent to the
   * client in a closing `data:` event (so it can tell a provider timeout from a network fault).
   */
  describeError(error: unknown): { message: string; type: string; code: string };
}

interface Parsed {
  text: string;
  usage: Usage | undefined;
  done: boolean;
}

function readEvent(line: string, into: Parsed): void {
  if (!line.startsWith('data:')) return;
  const data = line.slice(5).trim();
  if (data === '[DONE]') {
    into.done = true;
    return;
  }
  try {
    const chunk = JSON.parse(data) as {
      choices?: {
        delta?: { content?: string; tool_calls?: { function?: { name?: string; arguments?: string } }[] };
      }[];
      usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null;
    };
    for (const choice of chunk.choices ?? []) {
      into.text += choice.delta?.content ?? '';
      for (const call of choice.delta?.tool_calls ?? [])
        into.text += (call.function?.name ?? '') + (call.function?.arguments ?? '');
    }
    const u = chunk.usage;
    if (u)
      into.usage = {
        promptTokens: u.prompt_tokens!,
        completionTokens: u.completion_tokens!,
        totalTokens: u.total_tokens!,
      };
  } catch {
    // Not JSON: passed through as it is, read as nothing.
  }
}

/** The closing event of a stream the upstream broke off, after a blank line ending any event in progress. */
function errorEvent(error: { message: string; type: string; code: string }, midLine: boolean): Buffer {
  const body = JSON.stringify({ error: { ...error, param: null } });
  return Buffer.from(`${midLine ? '\n\n' : '\n'}data: ${body}\n\n`);
}

/**
 * A Node stream of `body`'s bytes, unchanged, reading each `data:` event on the side. When
 * the upstream read fails (stall past the time limit, reset) the stream ends cleanly with an
 * error event instead of a reset socket. Ends the upstream read when the client goes away
 * (`destroy`).
 */
export function tapSse(body: ReadableStream<Uint8Array>, hooks: SseTapHooks): Readable {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parsed: Parsed = { text: '', usage: undefined, done: false };
  let pending = '';
  let first = true;
  let ended = false;
  const end = (error: unknown) => {
    if (ended) return;
    ended = true;
    if (pending) readEvent(pending, parsed);
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
        for (const line of lines) readEvent(line.replace(/\r$/, ''), parsed);
        this.push(Buffer.from(value));
      } catch (error) {
        const midLine = pending !== '';
        end(error);
        this.push(errorEvent(hooks.describeError(error), midLine));
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
