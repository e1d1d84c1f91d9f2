// One timer for every store command in flight: each gets the same timeout, so their deadlines come in order.

/** A command in flight, as the watchdog tracks it. */
export interface WatchedCall {
  /** When it is given up on (`performance.now()` ms). */
  readonly deadline: number;
  /** Marks it answered: the watchdog forgets it. */
  done(): void;
}

interface Entry {
  readonly deadline: number;
  readonly expire: () => void;
  settled: boolean;
}

/**
 * Gives up on calls that get no reply within `timeoutMs`, with one timer for all of them
 * instead of one per call (arming and clearing a timer per command costs more than the
 * rest of a store call's client-side work). Calls share one timeout, so they expire in
 * the order they started: the timer is armed for the oldest call still unanswered, and
 * answered calls are dropped as the timer passes them. The timer does not keep the
 * process alive (the connection does, while a command is in flight).
 */
export class CallWatchdog {
  readonly #timeoutMs: number;
  #entries: Entry[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Tracks a call that starts now; `expire` runs if it is not done within the timeout. */
  watch(expire: () => void): WatchedCall {
    const entry: Entry = { deadline: performance.now() + this.#timeoutMs, expire, settled: false };
    this.#entries.push(entry);
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
    return {
      deadline: entry.deadline,
      done: () => {
        entry.settled = true;
      },
    };
  }

  /** Calls tracked and not yet answered nor expired. */
  get pending(): number {
    let n = 0;
    for (let k = this.#head; k < this.#entries.length; k++) if (!this.#entries[k]!.settled) n++;
    return n;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#check, Math.max(0, Math.ceil(ms)));
    this.#timer.unref();
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    const entries = this.#entries;
    while (this.#head < entries.length) {
      const entry = entries[this.#head]!;
      if (!entry.settled && entry.deadline > now) break;
      this.#head++;
      if (!entry.settled) {
        entry.settled = true;
        entry.expire();
      }
    }
    if (this.#head === entries.length) {
      this.#entries = [];
      this.#head = 0;
      return;
    }
    if (this.#head > 1024 && this.#head * 2 > entries.length) {
      this.#entries = entries.slice(this.#head);
      this.#head = 0;
    }
    this.#arm(this.#entries[this.#head]!.deadline - now);
  };
}
