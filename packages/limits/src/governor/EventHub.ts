// One governor's event stream and its status stream, coalesced per microtask.
import { Observable, Subject } from 'rxjs';
import type { GovernorEvent, ResourceStatus } from './types.js';

/** A governor event before the hub stamps it with the governor's name and the time. */
export type EventBody = DistributiveOmit<GovernorEvent, 'governor' | 'at'>;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Where a governor says what happens: `events$` carries every event as it happens (only
 * built when someone listens), `status$` the status on subscribe and again after every
 * change, at most once per microtask however many changes the tick made. Both complete
 * when the hub closes.
 */
export class EventHub {
  readonly events$: Observable<GovernorEvent>;
  readonly status$: Observable<ResourceStatus>;
  readonly #events = new Subject<GovernorEvent>();
  readonly #changes = new Subject<void>();
  readonly #name: string;
  readonly #now: () => number;
  #changePending = false;
  #closed = false;
  /**
   * Subscribers to `events$` and to `status$`, counted here: every acquire and release asks
   * whether anyone listens, and a field is cheaper to read than a Subject's observer list.
   */
  #eventSubscribers = 0;
  #statusSubscribers = 0;

  /** @param status reads the governor's status now. */
  constructor(name: string, now: () => number, status: () => ResourceStatus) {
    this.#name = name;
    this.#now = now;
    this.events$ = new Observable<GovernorEvent>((subscriber) => {
      this.#eventSubscribers++;
      const events = this.#events.subscribe(subscriber);
      return () => {
        this.#eventSubscribers--;
        events.unsubscribe();
      };
    });
    this.status$ = new Observable<ResourceStatus>((subscriber) => {
      this.#statusSubscribers++;
      subscriber.next(status());
      const changes = this.#changes.subscribe({
        next: () => subscriber.next(status()),
        complete: () => subscriber.complete(),
      });
      return () => {
        this.#statusSubscribers--;
        changes.unsubscribe();
      };
    });
  }

  /** Whether anyone listens to events (so callers can skip work only events need). */
  get observed(): boolean {
    return this.#eventSubscribers > 0;
  }

  /**
   * Stamps `event` (a fresh object the hub now owns) with the governor and the time, and sends
   * it. `at` is when it happened, if not now: a grant is stamped with the time its reservation
   * was recorded at, so events line up with the windows exactly.
   */
  emit(event: EventBody, at?: number): void {
    if (this.#eventSubscribers === 0) return;
    // Stamped in place: the body is a fresh literal of the caller's, and copying it with a spread
    // is a slow generic clone once the many event shapes make that site megamorphic.
    const stamped = event as Mutable<GovernorEvent>;
    stamped.governor = this.#name;
    stamped.at = at ?? this.#now();
    this.#events.next(stamped);
  }

  /** Something the status shows changed: `status$` emits once this tick's work is done. */
  changed(): void {
    if (this.#changePending || this.#statusSubscribers === 0) return;
    this.#changePending = true;
    queueMicrotask(() => {
      this.#changePending = false;
      if (!this.#closed) this.#changes.next();
    });
  }

  /** Completes both streams. */
  close(): void {
    this.#closed = true;
    this.#events.complete();
    this.#changes.complete();
  }
}
