// Memory probes for the memory limit: this process and its children, sampled, or a fixed reading.
import { type Clock, type Logger, silentLogger, systemClock } from '@tollgate/core';

/** Reports memory in use, in MB. Reads must be cheap and synchronous: they sit on the acquire path. */
export interface MemoryProbe {
  /** Memory in use now (or as of a very recent sample), in MB. */
  usageMb(): number;
  /** How stale a reading may be, in ms; a governor blocked on memory re-checks this often. */
  readonly refreshMs: number;
}

/** Options of {@link ProcessMemoryProbe}. */
export interface ProcessMemoryProbeOptions {
  /** How long a reading is reused, in ms. @default 500 */
  readonly refreshMs?: number | undefined;
  /** Child process ids (tool processes, workers) whose memory counts too. @default [] */
  readonly pids?: readonly number[] | undefined;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** Reads this process's resident set size in bytes. @default process.memoryUsage.rss */
  readonly readRss?: (() => number) | undefined;
}

const MB = 1024 * 1024;

/**
 * The default probe: this process's resident set size (`process.memoryUsage.rss()`),
 * cached for `refreshMs`, plus the memory of any child pids, sampled with pidusage in the
 * background (the last sample is used; a pid that has exited is dropped).
 */
export class ProcessMemoryProbe implements MemoryProbe {
  readonly refreshMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #readRss: () => number;
  readonly #pids: Set<number>;
  #rssMb = 0;
  #childrenMb = 0;
  #sampledAt = Number.NEGATIVE_INFINITY;
  /** The sample of child pids in progress, if any. */
  #sampling: Promise<void> | undefined;

  constructor(options: ProcessMemoryProbeOptions = {}) {
    this.refreshMs = options.refreshMs ?? 500;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#readRss = options.readRss ?? (() => process.memoryUsage.rss());
    this.#pids = new Set(options.pids ?? []);
  }

  usageMb(): number {
    const now = this.#clock.now();
    if (now - this.#sampledAt >= this.refreshMs) {
      this.#sampledAt = now;
      this.#rssMb = this.#readRss() / MB;
      if (this.#pids.size > 0) void this.#sampleChildren();
    }
    return this.#rssMb + this.#childrenMb;
  }

  /** Counts `pid`'s memory from now on. */
  addPid(pid: number): void {
    this.#pids.add(pid);
  }

  removePid(pid: number): void {
    this.#pids.delete(pid);
  }

  /**
   * Samples child pids now and waits for the result (the governor never waits on this). A
   * sample already in progress may have begun before the caller's change (a child that
   * just exited), so it is awaited and a new one taken.
   */
  async refreshChildren(): Promise<number> {
    await this.#sampling;
    await this.#sampleChildren();
    return this.#childrenMb;
  }

  /** Starts a sample unless one is in progress; resolves when the current one is done. */
  #sampleChildren(): Promise<void> {
    this.#sampling ??= this.#sample().finally(() => {
      this.#sampling = undefined;
    });
    return this.#sampling;
  }

  async #sample(): Promise<void> {
    // Loaded on the first sample: most processes never track a child pid.
    const { default: pidusage } = await import('pidusage');
    let total = 0;
    for (const pid of [...this.#pids]) {
      try {
        total += (await pidusage(pid)).memory / MB;
      } catch (error) {
        this.#pids.delete(pid);
        this.#logger.debug('memory probe dropped an exited pid', { pid, error: String(error) });
      }
    }
    this.#childrenMb = total;
  }
}

/** A probe with a fixed reading, for tests and for callers that measure memory themselves. */
export class StaticMemoryProbe implements MemoryProbe {
  readonly refreshMs: number;
  mb: number;

  constructor(mb = 0, refreshMs = 100) {
    this.mb = mb;
    this.refreshMs = refreshMs;
  }

  usageMb(): number {
    return this.mb;
  }
}
