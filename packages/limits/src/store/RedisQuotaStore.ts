// RedisQuotaStore: a quota shared across processes on Redis, admitted atomically by scripts.
import { createHash, randomUUID } from 'node:crypto';
import { checkOptions, InvalidArgumentError, type Logger, rule, silentLogger } from '@tollgate/core';
import type { Redis } from 'ioredis';
import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs';
import { StoreUnavailableError } from './errors.js';
import type {
  AcquireReply,
  QuotaConfig,
  QuotaStore,
  StoreRate,
  StoreRequest,
  StoreStatus,
} from './QuotaStore.js';
import { ABANDON, ACQUIRE, COOLDOWN, RELEASE, RENEW, SETTLE, STATUS, TAKE } from './redisScripts.js';
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

interface Script {
  readonly source: string;
  readonly sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
const SCRIPTS = {
  acquire: script(ACQUIRE),
  abandon: script(ABANDON),
  settle: script(SETTLE),
  release: script(RELEASE),
  renew: script(RENEW),
  cooldown: script(COOLDOWN),
  take: script(TAKE),
  status: script(STATUS),
};

/**
 * A quota shared by every process that uses the same Redis and quota name. One script
 * call per operation (one round trip): `acquire` checks and reserves every rate and the
 * slots of a whole batch of waiters at once, on the server's clock. Slots are leases with
 * a TTL; settles and releases publish on a channel so waiters elsewhere wake at once.
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
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #available: BehaviorSubject<boolean>;
  readonly #listeners = new Map<string, Set<() => void>>();
  readonly #abandoned: Abandoned[] = [];
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
    this.#timeoutMs = commandTimeoutMs;
    this.#logger = logger;
    this.#available = new BehaviorSubject(redis.status === 'ready' || redis.status === 'connecting');
    this.available$ = this.#available.pipe(distinctUntilChanged());
    redis.on('ready', this.#onReady);
    redis.on('close', this.#onDown);
    redis.on('end', this.#onDown);
  }

  /** The keys of a quota: all share the hash tag `{quota}`. */
  keys(config: QuotaConfig): string[] {
    const base = `${this.#prefix}:{${config.quota}}`;
    return [
      `${base}:cooldown`,
      `${base}:slots`,
      ...config.rates.flatMap((r) => [`${base}:r:${r.name}`, `${base}:t:${r.name}`]),
      `${base}:epoch`,
    ];
  }

  channel(config: QuotaConfig): string {
    return `${this.#prefix}:wake:{${config.quota}}`;
  }

  async acquire(config: QuotaConfig, requests: readonly StoreRequest[]): Promise<AcquireReply> {
    await this.#undoAbandoned();
    const keys = [...this.keys(config), this.#attemptKey(config)];
    const args: (string | number)[] = [
      config.rates.length,
      config.maxSlots ?? -1,
      config.slotTtlMs,
      config.holdTtlMs,
      requests.length,
      config.recoveryHoldMs,
      config.deferMs ?? 0,
      ...rateArgs(config.rates),
    ];
    for (const r of requests) args.push(r.leaseId, r.slots, r.held ? 1 : 0, ...r.amounts);
    // Sent but unanswered, Redis may run it yet (a busy server, a resent command): it is
    // undone or refused before anything else is acquired, so nobody waits on what nobody holds.
    const reply = (await this.#run(SCRIPTS.acquire, keys, args, () =>
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
    await this.#run(SCRIPTS.settle, this.keys(config), args);
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
    await this.#run(SCRIPTS.release, this.keys(config), args);
  }

  async renew(
    config: QuotaConfig,
    leases: ReadonlyArray<{ readonly leaseId: string; readonly slots: number }>,
  ): Promise<void> {
    const members = leases.flatMap((l) => Array.from({ length: l.slots }, (_, k) => `${l.leaseId}#${k + 1}`));
    if (members.length === 0) return;
    await this.#run(SCRIPTS.renew, this.keys(config), [config.slotTtlMs, ...members]);
  }

  async cooldown(config: QuotaConfig, ms: number): Promise<number> {
    return Number(await this.#run(SCRIPTS.cooldown, this.keys(config), [Math.ceil(ms)]));
  }

  async take(config: QuotaConfig, index: number, amount: number): Promise<void> {
    await this.#run(SCRIPTS.take, this.keys(config), [
      config.rates.length,
      index + 1,
      amount,
      randomUUID(),
      ...rateArgs(config.rates),
    ]);
  }

  async status(config: QuotaConfig): Promise<StoreStatus> {
    const reply = (await this.#run(SCRIPTS.status, this.keys(config), [
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

  /** Stops listening. The Redis client passed in is left open (it is the caller's). */
  async close(): Promise<void> {
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
          await this.#run(SCRIPTS.abandon, keys, args);
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

  #attemptKey(config: QuotaConfig): string {
    return `${this.#prefix}:{${config.quota}}:a:${randomUUID()}`;
  }

  /** Runs a script within the command timeout; `onUnanswered` when it may have been sent but got no reply. */
  async #run(
    s: Script,
    keys: readonly string[],
    args: readonly (string | number)[],
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
      try {
        return await this.#redis.evalsha(s.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error;
        return await this.#redis.eval(s.source, keys.length, ...keys, ...args);
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const pending = call();
    try {
      const result = await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new StoreUnavailableError('redis', `no reply within ${this.#timeoutMs} ms`)),
            this.#timeoutMs,
          );
        }),
      ]);
      this.#available.next(true);
      return result;
    } catch (error) {
      const replied = error instanceof Error && error.name === 'ReplyError';
      if (sent && !replied && onUnanswered) {
        onUnanswered();
        // When the late reply (or failure) comes, Redis is reachable again or the command is
        // gone: undo it then.
        pending.then(
          () => this.#undoSoon(),
          () => this.#undoSoon(),
        );
      }
      if (StoreUnavailableError.is(error)) {
        this.#available.next(false);
        throw error;
      }
      // Script errors are bugs or bad input; connection errors mean the store is down.
      if (replied) throw error;
      this.#available.next(false);
      throw new StoreUnavailableError('redis', (error as Error)?.message ?? String(error), error);
    } finally {
      givenUp = true;
      if (onReady) this.#redis.off('ready', onReady);
      clearTimeout(timer);
    }
  }
}

const CONNECTING = new Set(['wait', 'connecting', 'connect', 'reconnecting']);

function alg(rate: StoreRate): 's' | 'b' {
  return rate.algorithm === 'sliding-window' ? 's' : 'b';
}

function rateArgs(rates: readonly StoreRate[]): (string | number)[] {
  return rates.flatMap((r) => [alg(r), r.limit, r.windowMs, r.capacity]);
}
