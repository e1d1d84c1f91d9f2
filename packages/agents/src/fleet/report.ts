// A fleet run's report as text (formatReport) and its metrics and answers written to files (writeReport).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskResult } from '../agent/types.js';
import type { RunReport } from './types.js';

/** Options of {@link formatReport}. */
export interface FormatReportOptions {
  /** Per-agent rows to print; the rest are summarised. @default 10 */
  readonly maxAgentRows?: number | undefined;
  /** Where `writeReport` wrote the metrics: the rows left out are said to be there. @default rows left out are only counted */
  readonly metricsPath?: string | undefined;
}

/** Said under the limits table when a utilisation is above 100%. */
const OVER_FULL_NOTE =
  '* above 100%: more was charged than the limit admits in this time, because calls used more than they reserved (the excess is settled as debt) or the governor ran in monitor mode';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The report as a plain-text table, for a terminal or a CI log. */
export function formatReport(report: RunReport, options: FormatReportOptions = {}): string {
  const stop = `${report.stopReason}${report.stopDetail ? ` (${report.stopDetail})` : ''}`;
  return [
    `Run '${report.name}': ${stop}`,
    '',
    totalsTable(report),
    '',
    ...spendingLines(report),
    ...limitLines(report),
    ...roundLines(report),
    ...agentLines(report, options),
  ].join('\n');
}

function totalsTable(report: RunReport): string {
  const t = report.totals;
  const header = [
    'tasks',
    'done',
    'failed',
    'skipped',
    'agents',
    'LLM calls',
    'tool calls',
    'retries',
    '429s',
  ];
  return table(
    [...header, 'duration'],
    [
      [
        ...[t.tasks, t.succeeded, t.failed, t.skipped, t.agents, t.llmCalls, t.toolCalls, t.retries],
        t.rateLimited,
        seconds(report.durationMs),
      ],
    ],
  );
}

/** Tokens and cost, estimated and actual; throughput; the budget. */
function spendingLines(report: RunReport): string[] {
  const t = report.totals;
  const e = report.estimate;
  const rows = [
    ...(e ? [['estimate', e.promptTokens, e.completionTokens, e.totalTokens, dollars(e.cost)]] : []),
    ['actual', t.promptTokens, t.completionTokens, t.totalTokens, dollars(t.cost)],
  ];
  const tokensPerMinute = Math.round(t.tokensPerMinute).toLocaleString('en-US');
  const lines = [
    table(['', 'prompt tokens', 'completion tokens', 'total tokens', 'cost'], rows),
    `throughput: ${t.tasksPerMinute.toFixed(1)} tasks/min, ${tokensPerMinute} tokens/min (wall clock)`,
  ];
  const { budget } = report;
  if (budget) {
    const caps = [
      budget.maxTokens === undefined ? undefined : `${budget.maxTokens.toLocaleString('en-US')} tokens`,
      budget.maxCost === undefined ? undefined : dollars(budget.maxCost),
    ].filter(Boolean);
    const warned = budget.warned ? ', warning crossed' : '';
    lines.push(`budget: ${caps.join(', ')}${warned}${budget.stopped ? ', dispatch stopped' : ''}`);
  }
  return lines;
}

function limitLines(report: RunReport): string[] {
  if (report.limits.length === 0) return [];
  const rows = report.limits.map((l) => [
    l.name,
    l.governor,
    `${l.limit}/${seconds(l.windowMs)}`,
    round(l.used),
    `${(l.utilisation * 100).toFixed(1)}%${l.utilisation > 1 ? ' *' : ''}`,
  ]);
  return [
    '',
    table(['limit', 'governor', 'limit/window', 'used', 'utilisation'], rows),
    ...(report.limits.some((l) => l.utilisation > 1) ? [OVER_FULL_NOTE] : []),
  ];
}

function roundLines(report: RunReport): string[] {
  if (report.rounds.length === 0) return [];
  const rows = report.rounds.map((r) => [r.round, r.dispatched, r.succeeded, r.failed, r.totalTokens]);
  return ['', table(['round', 'dispatched', 'done', 'failed', 'tokens'], rows)];
}

/** The first `maxAgentRows` rows, and where the rest are. */
function agentLines(report: RunReport, options: FormatReportOptions): string[] {
  const max = options.maxAgentRows ?? 10;
  if (report.agents.length === 0 || max <= 0) return [];
  const rows = report.agents
    .slice(0, max)
    .map((a) => [
      a.taskId,
      a.agentId,
      a.role,
      a.status,
      seconds(a.queuedMs),
      seconds(a.durationMs),
      a.llmCalls,
      a.toolCalls,
      a.usage.totalTokens,
      dollars(a.cost),
    ]);
  const header = ['task', 'agent', 'role', 'status', 'queued', 'took', 'calls', 'tools', 'tokens', 'cost'];
  const lines = ['', table(header, rows)];
  const more = report.agents.length - max;
  const where = options.metricsPath
    ? `in ${options.metricsPath}`
    : 'not shown (writeReport puts them all in metrics.json)';
  if (more > 0) lines.push(`... and ${more} more rows ${where}`);
  return lines;
}

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  /** Also write each task's final answer to `responses/<taskId>.md`. */
  readonly responses?: readonly TaskResult<unknown>[] | undefined;
}

/** Writes `metrics.json` (and optionally the responses) into `dir`; returns the metrics path. */
export async function writeReport(
  report: RunReport,
  dir: string,
  options: WriteReportOptions = {},
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'metrics.json');
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  if (options.responses && options.responses.length > 0) {
    const folder = join(dir, 'responses');
    await mkdir(folder, { recursive: true });
    for (const result of options.responses) {
      const body =
        typeof result.output === 'string' ? result.output : JSON.stringify(result.output ?? null, null, 2);
      const header = `<!-- ${result.taskId} by ${result.agentId}: ${result.status} -->\n`;
      await writeFile(join(folder, `${safeName(result.taskId)}.md`), `${header}${body ?? ''}\n`);
    }
  }
  return path;
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_');
}

function dollars(value: number): string {
  return `$${value < 1 ? value.toFixed(4) : value.toFixed(2)}`;
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** A left-aligned text table with a header rule. */
export function table(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const cells = [
    header,
    ...rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : c))),
  ];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: ReadonlyArray<string | number>) =>
    r
      .map((c, i) => String(c).padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
