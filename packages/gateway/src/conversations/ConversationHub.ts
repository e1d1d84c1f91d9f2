// The live stream of each conversation: its messages so far, replayed to late watchers, then new ones.
import type { Clock } from '@tollgate/core';
import type { StreamMessage, StreamMessageInput } from './messages.js';

/** Receives a conversation's messages in order. */
export type Watcher = (message: StreamMessage) => void;

interface Channel {
  readonly history: StreamMessage[];
  readonly watchers: Set<Watcher>;
  ended: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Holds one channel per conversation while it runs and for `keepMs` after it ends. A
 * watcher first receives every message published so far, then each new one as it is
 * published; one watcher that throws or goes away never stops the conversation or the
 * other watchers.
 */
export class ConversationHub {
  readonly #channels = new Map<string, Channel>();
  readonly #keepMs: number;
  readonly #clock: Clock;

  /** @param keepMs how long an ended conversation's messages stay replayable from memory */
  constructor(keepMs: number, clock: Clock) {
    this.#keepMs = keepMs;
    this.#clock = clock;
  }

  /** Opens the channel of a conversation that starts. */
  open(id: string): void {
    this.#channels.set(id, { history: [], watchers: new Set(), ended: false });
  }

  /**
   * Numbers, stamps, keeps and sends a message; an `ended` message closes the channel to new
   * messages. An `agent_token` is sent to the watchers of the moment only: not kept, not
   * numbered (it carries the `seq` of the message before it).
   */
  publish(id: string, input: StreamMessageInput, ended = false): StreamMessage | undefined {
    const channel = this.#channels.get(id);
    if (!channel || channel.ended) return undefined;
    const live = input.type === 'agent_token';
    const message = {
      ...input,
      conversation_id: id,
      seq: channel.history.length + (live ? 0 : 1),
      timestamp: new Date(this.#clock.now()).toISOString(),
    } as StreamMessage;
    if (!live) channel.history.push(message);
    for (const watcher of channel.watchers) deliver(watcher, message);
    if (ended) {
      channel.ended = true;
      channel.watchers.clear();
      channel.timer = setTimeout(() => this.#channels.delete(id), this.#keepMs);
      channel.timer.unref?.();
    }
    return message;
  }

  /** Whether the conversation's messages are in memory (running, or ended less than `keepMs` ago). */
  has(id: string): boolean {
    return this.#channels.has(id);
  }

  /**
   * Sends `watcher` every message so far, then (unless the conversation has ended) each new
   * one. Returns a function that stops the watching; `undefined` when the channel is unknown.
   */
  watch(id: string, watcher: Watcher): (() => void) | undefined {
    const channel = this.#channels.get(id);
    if (!channel) return undefined;
    for (const message of channel.history) deliver(watcher, message);
    if (channel.ended) return () => {};
    channel.watchers.add(watcher);
    return () => channel.watchers.delete(watcher);
  }

  /** Watchers of running conversations, for statistics. */
  get watchers(): number {
    let n = 0;
    for (const c of this.#channels.values()) n += c.watchers.size;
    return n;
  }

  /** Forgets every channel. */
  close(): void {
    for (const c of this.#channels.values()) if (c.timer) clearTimeout(c.timer);
    this.#channels.clear();
  }
}

function deliver(watcher: Watcher, message: StreamMessage): void {
  try {
    watcher(message);
  } catch {
    // A watcher's failure is its own: the conversation and the other watchers go on.
  }
}
