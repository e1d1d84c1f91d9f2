// The settings a HybridAgent subclass may override: their defaults and their checks.
import { checkOptions, numberIn, optionRules, rule } from '@tollgate/core';
import { DEFAULT_MAX_TOOL_RESULT_CHARS } from '../tools/runTool.js';

/** Defaults of an agent's overridable settings. */
export const AGENT_DEFAULTS = {
  maxIterations: 10,
  toolTimeoutMs: 30_000,
  toolStopGraceMs: 5_000,
  maxToolResultChars: DEFAULT_MAX_TOOL_RESULT_CHARS,
} as const;

/** The overridable settings of an agent, as its loop reads them. */
export interface AgentSettings {
  readonly model: string | undefined;
  readonly temperature: number | undefined;
  readonly maxTokens: number | undefined;
  readonly maxIterations: number;
  readonly toolTimeoutMs: number;
  readonly toolStopGraceMs: number;
  readonly maxToolResultChars: number;
}

/**
 * Checks the settings of agent `name` (set by a subclass, so after the constructor).
 * @throws InvalidArgumentError naming every setting out of range.
 */
export function checkAgentSettings(name: string, agent: AgentSettings & { systemPrompt: unknown }): void {
  checkOptions(name, agent, {
    maxIterations: optionRules.positiveInt,
    toolTimeoutMs: optionRules.positive,
    toolStopGraceMs: optionRules.nonNegative,
    maxToolResultChars: optionRules.positiveInt,
    maxTokens: optionRules.positiveInt,
    temperature: numberIn(0, 2),
    model: optionRules.string,
    systemPrompt: rule('a string', (v) => typeof v === 'string'),
  });
}
