import { createHash, randomUUID } from 'node:crypto';
import { type Logger, silentLogger } from '@tollgate/core';
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
import { ACQUIRE, COOLDOWN, RELEASE, RENEW, SETTLE, STATUS, TAKE } from './redisScripts.js';

/** Options of {@link RedisQuotaStore}. */
export interface RedisQuotaStoreOptions {
  /** Prefix of every key and channel. @default 'tollgate' */
  readonly prefix?: string | undefined;
  /**
   * Longest wait for one command before the store counts as unreachable. Pair it with a
   * client that does not queue commands while disconnected (`enableOfflineQueue: false`),
   * or with a low `maxRetriesPerRequest`. @default 2_000
   */
  readonly commandTimeoutMs?: number | undefined;
  readonly logger?: Logger | undefined;
}

interface Script {
  readonly source: string;
  readonly sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
const SCRIPTS = {
  acquire: script(ACQUIRE),
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
  #subscriber: Redis | undefined;
  readonly #onReady = () => this.#available.next(true);
  readonly #onDown = () => this.#available.next(false);

  constructor(redis: Redis, options: RedisQuotaStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'tollgate';
    this.#timeoutMs = options.commandTimeoutMs ?? 2_000;
    this.#logger = options.logger ?? silentLogger;
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
    const args: (string | number)[] = [
      config.rates.length,
      config.maxSlots ?? -1,
      config.slotTtlMs,
      config.holdTtlMs,
      requests.length,
      config.recoveryHoldMs,
      ...rateArgs(config.rates),
    ];
    for (const r of requests) args.push(r.leaseId, r.slots, r.held ? 1 : 0, ...r.amounts);
    const reply = (await this.#run(SCRIPTS.acquire, config, args)) as (string | number)[];
    const [now, granted, waitMs, blocked, slotsUsed, cooldownUntil, ...remaining] = reply;
    const by = String(blocked);
    return {
      now: Number(now),
      granted: Number(granted),
      waitMs: Number(waitMs),
      blockedBy:
        by === '' ? undefined : by.startsWith('r') ? config.rates[Number(by.slice(1)) - 1]?.name : by,
      remaining: remaining.map(Number),
      slotsUsed: Number(slotsUsed),
      cooldownUntil: Number(cooldownUntil),
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
    await this.#run(SCRIPTS.settle, config, args);
  }

  async release(
    config: QuotaConfig,
    leaseId: string,
    slots: number,
    endHold: boolean,
    reserved: readonly number[],
  ): Promise<void> {
    const args: (string | number)[] = [
      config.rates.length,
      leaseId,
      this.channel(config),
      slots,
      endHold ? 1 : 0,
    ];
    for (const [i, r] of config.rates.entries()) args.push(alg(r), reserved[i] ?? 0);
    await this.#run(SCRIPTS.release, config, args);
  }

  async renew(
    config: QuotaConfig,
    leases: ReadonlyArray<{ readonly leaseId: string; readonly slots: number }>,
  ): Promise<void> {
    const members = leases.flatMap((l) => Array.from({ length: l.slots }, (_, k) => `${l.leaseId}#${k + 1}`));
    if (members.length === 0) return;
    await this.#run(SCRIPTS.renew, config, [config.slotTtlMs, ...members]);
  }

  async cooldown(config: QuotaConfig, ms: number): Promise<number> {
    return Number(await this.#run(SCRIPTS.cooldown, config, [Math.ceil(ms)]));
  }

  async take(config: QuotaConfig, index: number, amount: number): Promise<void> {
    await this.#run(SCRIPTS.take, config, [
      config.rates.length,
      index + 1,
      amount,
      randomUUID(),
      ...rateArgs(config.rates),
    ]);
  }

  async status(config: QuotaConfig): Promise<StoreStatus> {
    const reply = (await this.#run(SCRIPTS.status, config, [
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

  async #run(s: Script, config: QuotaConfig, args: readonly (string | number)[]): Promise<unknown> {
    const keys = this.keys(config);
    const call = async () => {
      // A client still connecting (or reconnecting) would refuse commands without an offline
      // queue: wait for it, within the command timeout.
      if (this.#redis.status !== 'ready' && CONNECTING.has(this.#redis.status))
        await new Promise((resolve) => this.#redis.once('ready', resolve));
      try {
        return await this.#redis.evalsha(s.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error;
        return await this.#redis.eval(s.source, keys.length, ...keys, ...args);
      }
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        call(),
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
      if (StoreUnavailableError.is(error)) {
        this.#available.next(false);
        throw error;
      }
      // Script errors are bugs or bad input; connection errors mean the store is down.
      if (error instanceof Error && error.name === 'ReplyError') throw error;
      this.#available.next(false);
      throw new StoreUnavailableError('redis', (error as Error)?.message ?? String(error), error);
    } finally {
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
