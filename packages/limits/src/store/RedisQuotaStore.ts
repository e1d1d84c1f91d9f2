// RedisQuotaStore: a quota shared across processes on Redis, admitted atomically by scripts.
import { randomUUID } from 'node:crypto';
import { checkOptions, InvalidArgumentError, type Logger, rule, silentLogger } from '@tollgate/core';
import type { Redis } from 'ioredis';
import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs';
import type { AcquireReply, QuotaConfig, QuotaStore, StoreRequest, StoreStatus } from './QuotaStore.js';
import { RedisScriptRunner } from './RedisScriptRunner.js';
import { alg, type QuotaShape, quotaShape, rateArgs, SCRIPTS } from './redisShape.js';
import { timerMs } from './timerMs.js';

/** Options of {@link RedisQuotaStore}. */
export interface RedisQuotaStoreOptions {
  /** Prefix of every key and channel. @default 'tollgate' */
  readonly prefix?: string | undefined;
  /**
   * Longest wait for one command before the store counts as unreachable. An acquire given
   * up on is abandoned: undone if Redis ran it after all, and refused if it runs later.
   * Minimum: 1; maximum: 2^31-1. @default 2_000
   */
  readonly commandTimeoutMs?: number | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
}

/** An acquire call given up on, to be undone (or refused) before the next one. */
interface Abandoned {
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
}

/**
 * A quota shared by every process that uses the same Redis and quota name. One script
 * call per operation (one round trip): `acquire` checks and reserves every rate and the
 * slots of a whole batch of waiters at once, on the server's clock. Slots are leases with
 * a TTL; settles and releases publish on a channel so waiters elsewhere wake at once.
 * Settles and releases ride with the next call of the same event-loop turn (typically the
 * acquire that follows them) in one pipeline, or go on their own at the end of that turn.
 *
 * @example
 * const redis = new Redis({ host: '127.0.0.1', enableOfflineQueue: false });
 * const store = new RedisQuotaStore(redis);
 * const provider = new DistributedGovernor(limits, { store, quota: 'openai:gpt-4o-mini' });
 */
export class RedisQuotaStore implements QuotaStore {
  readonly kind = 'redis';
  readonly available$: Observable<boolean>;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #available: BehaviorSubject<boolean>;
  readonly #listeners = new Map<string, Set<() => void>>();
  readonly #abandoned: Abandoned[] = [];
  readonly #runner: RedisScriptRunner;
  /** Per quota config: its keys, and the arguments every acquire of it starts with. */
  readonly #shapes = new WeakMap<QuotaConfig, QuotaShape>();
  /** Attempt keys are this store's id and a counter: unique across processes, no UUID per call. */
  readonly #id = randomUUID();
  #attempts = 0;
  #subscriber: Redis | undefined;
  #undoing: Promise<void> | undefined;
  readonly #onReady = () => {
    this.#available.next(true);
    this.#undoSoon();
  };
  readonly #onDown = () => this.#available.next(false);

  constructor(redis: Redis, options?: RedisQuotaStoreOptions) {
    const {
      prefix = 'tollgate',
      commandTimeoutMs = 2_000,
      logger = silentLogger,
    } = checkOptions('RedisQuotaStore', options, {
      prefix: rule('a non-empty string without { or }', (v) => typeof v === 'string' && /^[^{}]+$/.test(v)),
      commandTimeoutMs: timerMs,
      logger: rule('a Logger', (v) => typeof (v as Logger)?.warn === 'function'),
    });
    if (typeof redis?.evalsha !== 'function')
      throw new InvalidArgumentError('redis', 'an ioredis client', redis);
    this.#redis = redis;
    this.#prefix = prefix;
    this.#logger = logger;
    this.#available = new BehaviorSubject(redis.status === 'ready' || redis.status === 'connecting');
    this.available$ = this.#available.pipe(distinctUntilChanged());
    this.#runner = new RedisScriptRunner(redis, commandTimeoutMs, this.#available, () => this.#undoSoon());
    redis.on('ready', this.#onReady);
    redis.on('close', this.#onDown);
    redis.on('end', this.#onDown);
  }

  /** The keys of a quota: all share the hash tag `{quota}`. */
  keys(config: QuotaConfig): string[] {
    return [...this.#shape(config).keys];
  }

  #shape(config: QuotaConfig): QuotaShape {
    let shape = this.#shapes.get(config);
    if (shape === undefined) {
      shape = quotaShape(this.#prefix, this.#id, config);
      this.#shapes.set(config, shape);
    }
    return shape;
  }

  channel(config: QuotaConfig): string {
    return `${this.#prefix}:wake:{${config.quota}}`;
  }

  async acquire(config: QuotaConfig, requests: readonly StoreRequest[]): Promise<AcquireReply> {
    if (this.#abandoned.length > 0) await this.#undoAbandoned();
    const shape = this.#shape(config);
    const keys = [...shape.keys, `${shape.attemptPrefix}${++this.#attempts}`];
    const args: (string | number)[] = [...shape.acquireArgs];
    args[4] = requests.length;
    for (const r of requests) args.push(r.leaseId, r.slots, r.held ? 1 : 0, ...r.amounts);
    // Sent but unanswered, Redis may run it yet (a busy server, a resent command): it is
    // undone or refused before anything else is acquired, so nobody waits on what nobody holds.
    const reply = (await this.#runner.run(SCRIPTS.acquire, keys, args, () =>
      this.#abandoned.push({ keys, args: [...args, this.channel(config)] }),
    )) as (string | number)[];
    const [now, granted, waitMs, blocked, slotsUsed, cooldownUntil, ...rest] = reply;
    const by = String(blocked);
    const n = config.rates.length;
    const startsInMs = rest.length > n ? { startsInMs: rest.slice(n).map(Number) } : {};
    return {
      now: Number(now),
      granted: Number(granted),
      waitMs: Number(waitMs),
      blockedBy:
        by === '' ? undefined : by.startsWith('r') ? config.rates[Number(by.slice(1)) - 1]?.name : by,
      remaining: rest.slice(0, n).map(Number),
      slotsUsed: Number(slotsUsed),
      cooldownUntil: Number(cooldownUntil),
      ...startsInMs,
    };
  }

  async settle(
    config: QuotaConfig,
    leaseId: string,
    reserved: readonly number[],
    actual: readonly (number | undefined)[],
  ): Promise<void> {
    const args: (string | number)[] = [config.rates.length, leaseId, this.channel(config)];
    for (const [i, r] of config.rates.entries())
      args.push(alg(r), r.limit, r.windowMs, r.capacity, reserved[i] ?? 0, actual[i] ?? '');
    await this.#runner.post(SCRIPTS.settle, this.#shape(config).keys, args);
  }

  async release(
    config: QuotaConfig,
    leaseId: string,
    slots: number,
    endHold: boolean,
    reserved: readonly number[],
    agoMs = 0,
  ): Promise<void> {
    const args: (string | number)[] = [
      config.rates.length,
      leaseId,
      this.channel(config),
      slots,
      endHold ? 1 : 0,
    ];
    for (const [i, r] of config.rates.entries()) args.push(alg(r), reserved[i] ?? 0);
    if (endHold && agoMs > 0) args.push(agoMs, config.holdTtlMs);
    await this.#runner.post(SCRIPTS.release, this.#shape(config).keys, args);
  }

  async renew(
    config: QuotaConfig,
    leases: ReadonlyArray<{ readonly leaseId: string; readonly slots: number }>,
  ): Promise<void> {
    const members = leases.flatMap((l) => Array.from({ length: l.slots }, (_, k) => `${l.leaseId}#${k + 1}`));
    if (members.length === 0) return;
    await this.#runner.run(SCRIPTS.renew, this.keys(config), [config.slotTtlMs, ...members]);
  }

  async cooldown(config: QuotaConfig, ms: number): Promise<number> {
    return Number(await this.#runner.run(SCRIPTS.cooldown, this.keys(config), [Math.ceil(ms)]));
  }

  async take(config: QuotaConfig, index: number, amount: number): Promise<void> {
    await this.#runner.run(SCRIPTS.take, this.keys(config), [
      config.rates.length,
      index + 1,
      amount,
      randomUUID(),
      ...rateArgs(config.rates),
    ]);
  }

  async status(config: QuotaConfig): Promise<StoreStatus> {
    const reply = (await this.#runner.run(SCRIPTS.status, this.keys(config), [
      config.rates.length,
      config.maxSlots ?? -1,
      ...rateArgs(config.rates),
    ])) as (string | number)[];
    const [now, slotsUsed, cooldownUntil, ...remaining] = reply;
    return {
      now: Number(now),
      slotsUsed: Number(slotsUsed),
      cooldownUntil: Number(cooldownUntil),
      remaining: remaining.map(Number),
    };
  }

  subscribe(config: QuotaConfig, listener: () => void): () => void {
    const channel = this.channel(config);
    let set = this.#listeners.get(channel);
    if (!set) {
      set = new Set();
      this.#listeners.set(channel, set);
      this.#subscriberFor()
        .subscribe(channel)
        .catch((error: unknown) => {
          this.#logger.warn('could not subscribe to wake-ups; waiters fall back to their timers', {
            channel,
            error: String(error),
          });
        });
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) {
        this.#listeners.delete(channel);
        this.#subscriber?.unsubscribe(channel).catch(() => {});
      }
    };
  }

  /** Sends the settles and releases still posted, now (they are written before this returns, when connected). */
  flush(): Promise<void> {
    return this.#runner.flush().catch(() => {}); // each posted call hears its own outcome
  }

  /** Sends the settles and releases still posted, then stops listening. The Redis client passed in is left open (it is the caller's). */
  async close(): Promise<void> {
    await this.#runner.flush().catch(() => {}); // each posted call heard its own outcome
    this.#redis.off('ready', this.#onReady);
    this.#redis.off('close', this.#onDown);
    this.#redis.off('end', this.#onDown);
    this.#listeners.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    subscriber?.disconnect();
    this.#available.complete();
  }

  #subscriberFor(): Redis {
    if (!this.#subscriber) {
      // Subscribing must survive reconnects (ioredis resubscribes) and may start before the
      // connection is ready, whatever the command client's offline-queue setting.
      const subscriber = this.#redis.duplicate({ enableOfflineQueue: true, lazyConnect: false });
      subscriber.on('message', (channel: string) => {
        for (const listener of this.#listeners.get(channel) ?? []) listener();
      });
      subscriber.on('error', () => {}); // reconnects on its own; the command connection reports health
      this.#subscriber = subscriber;
    }
    return this.#subscriber;
  }

  /**
   * Runs the scripts of acquires given up on, oldest first; they stay pending until one
   * succeeds. One run at a time: callers share the run in progress.
   */
  #undoAbandoned(): Promise<void> {
    if (this.#abandoned.length === 0) return Promise.resolve();
    this.#undoing ??= (async () => {
      try {
        while (this.#abandoned.length > 0) {
          const { keys, args } = this.#abandoned[0]!;
          await this.#runner.run(SCRIPTS.abandon, keys, args);
          this.#abandoned.shift();
        }
      } finally {
        this.#undoing = undefined;
      }
    })();
    return this.#undoing;
  }

  /**
   * Undoes abandoned acquires as soon as Redis can be reached (a late reply arrived, or the
   * connection is back), not only before this store's next acquire: a process that goes
   * idle after a timeout must not leave a phantom slot for others until its TTL.
   */
  #undoSoon(): void {
    this.#undoAbandoned().catch(() => {}); // still pending: tried again at the next chance
  }
}
