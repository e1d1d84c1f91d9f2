// Runs the Redis quota store's scripts: within a timeout, on a ready connection, with settles and releases riding along.
import type { Redis } from 'ioredis';
import type { BehaviorSubject } from 'rxjs';
import { CallWatchdog } from './CallWatchdog.js';
import { StoreUnavailableError } from './errors.js';
import type { Script } from './redisShape.js';

/** A script call waiting to ride with the next one (a settle or a release). */
interface Posted {
  readonly script: Script;
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Reply = [error: Error | null, result: unknown];

const CONNECTING = new Set(['wait', 'connecting', 'connect', 'reconnecting']);

/**
 * Sends script calls for a `RedisQuotaStore`. Each call is given up on after the command
 * timeout (one watchdog timer for all). Settles and releases are posted, not sent: they
 * go out in one pipeline (one write, one round trip) with the next call made in the same
 * turn of the event loop (typically the acquire that follows them), or on their own at
 * the end of that turn. Redis runs them in order, before that call.
 */
export class RedisScriptRunner {
  readonly #redis: Redis;
  readonly #timeoutMs: number;
  readonly #available: BehaviorSubject<boolean>;
  readonly #onLateReply: () => void;
  readonly #watchdog: CallWatchdog;
  /** Scripts known to be loaded on the server (cleared when one turns out not to be). */
  readonly #loaded = new Set<string>();
  #outbox: Posted[] = [];
  #flushing: NodeJS.Immediate | undefined;

  constructor(redis: Redis, timeoutMs: number, available: BehaviorSubject<boolean>, onLateReply: () => void) {
    this.#redis = redis;
    this.#timeoutMs = timeoutMs;
    this.#available = available;
    this.#onLateReply = onLateReply;
    this.#watchdog = new CallWatchdog(timeoutMs);
  }

  /** Calls posted and not yet sent. */
  get posted(): number {
    return this.#outbox.length;
  }

  /** Posts a call to ride with the next one; it is sent at the latest at the end of this event-loop turn. */
  post(script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#outbox.push({ script, keys, args, resolve, reject });
      this.#flushing ??= setImmediate(() => {
        this.#flushing = undefined;
        this.flush().catch(() => {}); // each posted call hears its own outcome
      });
    });
  }

  /** Sends what is posted now, and resolves once it is answered. */
  async flush(): Promise<void> {
    const posted = this.#take();
    if (posted.length === 0) return;
    await this.#guard(posted, () => this.#pipeline(posted, undefined));
  }

  /**
   * Runs a script within the command timeout, after what is posted; `onUnanswered` when it
   * may have been sent but got no reply.
   */
  run(
    s: Script,
    keys: readonly string[],
    args: readonly (string | number)[],
    onUnanswered?: () => void,
  ): Promise<unknown> {
    const posted = this.#take();
    const send =
      posted.length === 0
        ? () => this.#evalsha(s, keys, args)
        : () => this.#pipeline(posted, { script: s, keys, args });
    return this.#guard(posted, send, onUnanswered);
  }

  #take(): Posted[] {
    const posted = this.#outbox;
    if (posted.length > 0) this.#outbox = [];
    return posted;
  }

  async #evalsha(s: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      const result = await this.#redis.evalsha(s.sha, keys.length, ...keys, ...args);
      this.#loaded.add(s.sha);
      return result;
    } catch (error) {
      if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error;
      this.#loaded.clear(); // a restarted or flushed server: every script is loaded again
      const result = await this.#redis.eval(s.source, keys.length, ...keys, ...args);
      this.#loaded.add(s.sha);
      return result;
    }
  }

  /**
   * Sends `posted` and then `last` in one pipeline; answers each posted call, and returns
   * what `last` got. Posted calls carry their scripts' source, so Redis runs them in order
   * whatever scripts it has; `last`'s script is loaded first in the same pipeline when not
   * known to be there, and if missing anyway it is sent again in full after the pipeline.
   */
  async #pipeline(
    posted: readonly Posted[],
    last: Omit<Posted, 'resolve' | 'reject'> | undefined,
  ): Promise<unknown> {
    const pipe = this.#redis.pipeline();
    // Posted calls go with their source (EVAL): a server that lost its scripts meanwhile
    // (a restart, SCRIPT FLUSH) must still run them before the call they ride with, which
    // depends on them. Only the last call may go by SHA and be sent again if missing.
    const loads = last && !this.#loaded.has(last.script.sha) ? [last.script] : [];
    for (const sc of loads) pipe.script('LOAD', sc.source);
    for (const c of posted) pipe.eval(c.script.source, c.keys.length, ...c.keys, ...c.args);
    if (last) pipe.evalsha(last.script.sha, last.keys.length, ...last.keys, ...last.args);
    const replies = ((await pipe.exec()) ?? []).slice(loads.length) as Reply[];
    for (const sc of loads) this.#loaded.add(sc.sha);
    const answer = async (call: Omit<Posted, 'resolve' | 'reject'>, reply: Reply | undefined) => {
      const [error, result] = reply ?? [new Error('no reply in the pipeline'), undefined];
      if (!error) return result;
      // Script errors are the script's; a connection lost mid-pipeline means the store is down.
      if (error.name !== 'ReplyError') throw this.#failure(error, false);
      if (!error.message.includes('NOSCRIPT')) throw error;
      this.#loaded.clear();
      return await this.#redis.eval(call.script.source, call.keys.length, ...call.keys, ...call.args);
    };
    await Promise.all(posted.map((p, k) => answer(p, replies[k]).then(p.resolve, p.reject)));
    return last ? await answer(last, replies[posted.length]) : undefined;
  }

  /**
   * Runs `send` once the connection is ready, within the command timeout; posted calls
   * it carries fail with it when it gets no answer. Script errors are rethrown as they
   * are; anything else means the store is unreachable.
   */
  async #guard(
    posted: readonly Posted[],
    send: () => Promise<unknown>,
    onUnanswered?: () => void,
  ): Promise<unknown> {
    let givenUp = false;
    let sent = false;
    let onReady: (() => void) | undefined;
    const call = async () => {
      // A client still connecting (or reconnecting) would refuse commands without an offline
      // queue: wait for it, within the command timeout, and send nothing once given up.
      if (this.#redis.status !== 'ready' && CONNECTING.has(this.#redis.status))
        await new Promise<void>((resolve) => {
          onReady = resolve;
          this.#redis.once('ready', resolve);
        });
      if (givenUp) throw new StoreUnavailableError('redis', 'given up before it was sent');
      // Without an offline queue, a client that is not ready refuses the command unsent.
      sent = this.#redis.status === 'ready' || this.#redis.options.enableOfflineQueue !== false;
      return await send();
    };
    let watched: { done(): void } | undefined;
    const pending = call();
    try {
      const result = await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          watched = this.#watchdog.watch(() =>
            reject(new StoreUnavailableError('redis', `no reply within ${this.#timeoutMs} ms`)),
          );
        }),
      ]);
      if (!this.#available.value) this.#available.next(true);
      return result;
    } catch (error) {
      const replied = error instanceof Error && error.name === 'ReplyError';
      if (sent && !replied && onUnanswered) {
        onUnanswered();
        // When the late reply (or failure) comes, Redis is reachable again or the command is
        // gone: undo it then.
        pending.then(this.#onLateReply, this.#onLateReply);
      }
      const failure = this.#failure(error, replied);
      // Posted calls already answered ignore this; the others share the outcome.
      for (const p of posted) p.reject(failure);
      throw failure;
    } finally {
      givenUp = true;
      if (onReady) this.#redis.off('ready', onReady);
      watched?.done();
    }
  }

  /** What a failed call is thrown as; marks the store down unless Redis answered (a script error). */
  #failure(error: unknown, replied: boolean): unknown {
    if (replied) return error;
    this.#available.next(false);
    if (StoreUnavailableError.is(error)) return error;
    return new StoreUnavailableError('redis', (error as Error)?.message ?? String(error), error);
  }
}
