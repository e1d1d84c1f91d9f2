import { cpus, totalmem, type } from 'node:os';

/** One measured quantity over repeated runs. */
export interface Sample {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: readonly number[];
}

export function sample(runs: readonly number[]): Sample {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, runs };
}

/** Runs `fn` `times` times in sequence and summarises what it returns. */
export async function repeat(times: number, fn: () => Promise<number>): Promise<Sample> {
  const runs: number[] = [];
  for (let i = 0; i < times; i++) runs.push(await fn());
  return sample(runs);
}

export function machine() {
  const cpu = cpus();
  return {
    node: process.version,
    platform: `${type()} ${process.arch}`,
    cpu: `${cpu[0]?.model ?? 'unknown'} x ${cpu.length}`,
    memoryGb: Math.round(totalmem() / 2 ** 30),
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A left-aligned text table. */
export function table(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const cells = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

/** A markdown table. */
export function markdown(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(String).join(' | ')} |`),
  ].join('\n');
}

export const fmt = {
  rate: (n: number) =>
    n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0),
  range: (s: Sample, f: (n: number) => string) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`,
  ratio: (n: number) => `${n.toFixed(2)}x`,
  pct: (n: number) => `${(n * 100).toFixed(1)}%`,
  ms: (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`,
};

/** What every section returns: its data (for JSON), its table (for the terminal) and its markdown. */
export interface SectionResult {
  readonly name: string;
  readonly title: string;
  readonly data: unknown;
  readonly table: string;
  readonly markdown: string;
  /** Goals of the issue, each met or not, with the number. */
  readonly goals: ReadonlyArray<{ readonly goal: string; readonly met: boolean; readonly value: string }>;
  /** Why a section could not run here, if it could not. */
  readonly skipped?: string;
}

export interface BenchOptions {
  readonly quick: boolean;
  readonly log: (line: string) => void;
}
