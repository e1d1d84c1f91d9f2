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

/** The report as a plain-text table, for a terminal or a CI log. */
export function formatReport(report: RunReport, options: FormatReportOptions = {}): string {
  const t = report.totals;
  const lines: string[] = [];
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  lines.push(
    `Run '${report.name}': ${report.stopReason}${report.stopDetail ? ` (${report.stopDetail})` : ''}`,
  );
  lines.push('');
  lines.push(
    table(
      [
        'tasks',
        'done',
        'failed',
        'skipped',
        'agents',
        'LLM calls',
        'tool calls',
        'retries',
        '429s',
        'duration',
      ],
      [
        [
          t.tasks,
          t.succeeded,
          t.failed,
          t.skipped,
          t.agents,
          t.llmCalls,
          t.toolCalls,
          t.retries,
          t.rateLimited,
          seconds(report.durationMs),
        ],
      ],
    ),
  );
  lines.push('');
  const estimate = report.estimate;
  lines.push(
    table(
      ['', 'prompt tokens', 'completion tokens', 'total tokens', 'cost'],
      [
        ...(estimate
          ? [
              [
                'estimate',
                estimate.promptTokens,
                estimate.completionTokens,
                estimate.totalTokens,
                dollars(estimate.cost),
              ],
            ]
          : []),
        ['actual', t.promptTokens, t.completionTokens, t.totalTokens, dollars(t.cost)],
      ],
    ),
  );
  lines.push(
    `throughput: ${t.tasksPerMinute.toFixed(1)} tasks/min, ${Math.round(t.tokensPerMinute).toLocaleString('en-US')} tokens/min (wall clock)`,
  );
  if (report.budget) {
    const caps = [
      report.budget.maxTokens === undefined
        ? undefined
        : `${report.budget.maxTokens.toLocaleString('en-US')} tokens`,
      report.budget.maxCost === undefined ? undefined : dollars(report.budget.maxCost),
    ].filter(Boolean);
    lines.push(
      `budget: ${caps.join(', ')}${report.budget.warned ? ', warning crossed' : ''}${report.budget.stopped ? ', dispatch stopped' : ''}`,
    );
  }
  if (report.limits.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['limit', 'governor', 'limit/window', 'used', 'utilisation'],
        report.limits.map((l) => [
          l.name,
          l.governor,
          `${l.limit}/${seconds(l.windowMs)}`,
          round(l.used),
          `${(l.utilisation * 100).toFixed(1)}%${l.utilisation > 1 ? ' *' : ''}`,
        ]),
      ),
    );
    if (report.limits.some((l) => l.utilisation > 1)) lines.push(OVER_FULL_NOTE);
  }
  if (report.rounds.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['round', 'dispatched', 'done', 'failed', 'tokens'],
        report.rounds.map((r) => [r.round, r.dispatched, r.succeeded, r.failed, r.totalTokens]),
      ),
    );
  }
  const max = options.maxAgentRows ?? 10;
  if (report.agents.length > 0 && max > 0) {
    lines.push('');
    const shown = report.agents.slice(0, max);
    lines.push(
      table(
        ['task', 'agent', 'role', 'status', 'queued', 'took', 'calls', 'tools', 'tokens', 'cost'],
        shown.map((a) => [
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
        ]),
      ),
    );
    const more = report.agents.length - max;
    if (more > 0)
      lines.push(
        `... and ${more} more rows ${options.metricsPath ? `in ${options.metricsPath}` : 'not shown (writeReport puts them all in metrics.json)'}`,
      );
  }
  return lines.join('\n');
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
