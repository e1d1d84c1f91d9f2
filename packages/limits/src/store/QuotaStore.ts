// The QuotaStore interface: a quota shared by processes, its requests, replies and status.
import type { Observable } from 'rxjs';
import type { RateInfo } from '../rates/RateLimiter.js';

/** One rate limit as a store enforces it. */
export type StoreRate = RateInfo;

/** The limits of one shared quota. Every process sharing it must use the same. */
export interface QuotaConfig {
  /** Names the quota: processes with the same name share it (e.g. `openai:gpt-4o-mini:team-a`). */
  readonly quota: string;
  readonly rates: readonly StoreRate[];
  /** Concurrency slots across all processes; `null` for none. */
  readonly maxSlots: number | null;
  /** A slot not renewed for this long is free again (its process died). */
  readonly slotTtlMs: number;
  /** A held reservation not settled for this long counts from then on (its process died). */
  readonly holdTtlMs: number;
  /**
   * A store that lost its state (a restarted Redis without persistence) cannot know what was
   * admitted in the last window: the first acquire it sees then puts the quota in cooldown
   * for this long. 0 turns it off.
   */
  readonly recoveryHoldMs: number;
  /**
   * A request that the sliding windows alone keep out, for no more than this many ms, is
   * granted now to start then (`AcquireReply.startsInMs`): its entries count from its start,
   * and its process waits out the rest on its own timer instead of asking the store again.
   * 0 or absent: only what fits now is granted.
   */
  readonly deferMs?: number | undefined;
}

/** One reservation asked of the store. */
export interface StoreRequest {
  /** Unique across processes. */
  readonly leaseId: string;
  readonly slots: number;
  /** Sliding-window entries stay counted until settled (see `AcquireOptions.holdUntilSettled`). */
  readonly held: boolean;
  /** Amount per rate, in `QuotaConfig.rates` order. */
  readonly amounts: readonly number[];
}

/** What the store answered to a batch of requests, served in order until one does not fit. */
export interface AcquireReply {
  /** The store's clock, ms. */
  readonly now: number;
  /** How many requests, from the first, were granted. */
  readonly granted: number;
  /** For the first request not granted: ms until it fits, as far as the store can tell. */
  readonly waitMs: number;
  /** What blocks it: a rate's name, `slots`, `cooldown`, or `never` (more than a limit can ever grant). */
  readonly blockedBy: string | undefined;
  /** Remaining per rate after the batch (negative in debt). */
  readonly remaining: readonly number[];
  readonly slotsUsed: number;
  /** Store-clock time until which nobody is admitted (0 when none). */
  readonly cooldownUntil: number;
  /**
   * Per granted request, ms from `now` until it may start (see `QuotaConfig.deferMs`);
   * absent when every one may start now.
   */
  readonly startsInMs?: readonly number[];
}

/** The state of a quota now. */
export interface StoreStatus {
  readonly now: number;
  readonly remaining: readonly number[];
  readonly slotsUsed: number;
  readonly cooldownUntil: number;
}

/**
 * Where a shared quota lives. Every operation is atomic across every process using the
 * store: `acquire` checks and reserves every rate and the slots together, all or nothing.
 */
export interface QuotaStore {
  /** `memory`, `redis`, ... */
  readonly kind: string;
  acquire(config: QuotaConfig, requests: readonly StoreRequest[]): Promise<AcquireReply>;
  /** Replaces a reservation by the real amounts (`undefined`: unchanged) and ends its hold. */
  settle(
    config: QuotaConfig,
    leaseId: string,
    reserved: readonly number[],
    actual: readonly (number | undefined)[],
  ): Promise<void>;
  /**
   * Frees the slots; with `endHold`, a hold still running ends: the reservation then counts
   * from `agoMs` (default 0) before now on the store clock, never from before it was granted.
   */
  release(
    config: QuotaConfig,
    leaseId: string,
    slots: number,
    endHold: boolean,
    reserved: readonly number[],
    agoMs?: number,
  ): Promise<void>;
  /** Keeps slots alive: a process renews its running leases well within `slotTtlMs`. */
  renew(
    config: QuotaConfig,
    leases: ReadonlyArray<{ readonly leaseId: string; readonly slots: number }>,
  ): Promise<void>;
  /** Nobody is admitted for `ms` from now (store clock). Extends, never shortens. */
  cooldown(config: QuotaConfig, ms: number): Promise<number>;
  /** Takes `amount` of rate `index` unconditionally (a provider said less is left than we thought). */
  take(config: QuotaConfig, index: number, amount: number): Promise<void>;
  status(config: QuotaConfig): Promise<StoreStatus>;
  /** Calls `listener` when capacity may have been freed (a settle or release anywhere). */
  subscribe(config: QuotaConfig, listener: () => void): () => void;
  /** `true` while the store can be reached; emits on every change. */
  readonly available$: Observable<boolean>;
  /**
   * Sends at once whatever this store holds back to send with a later call (settles and
   * releases riding along); a governor calls it on `dispose`, so work done just before
   * (a last release) reaches the store ahead of whatever the caller does next (a `quit`).
   */
  flush?(): Promise<void>;
  close(): Promise<void>;
}
