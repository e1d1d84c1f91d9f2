/**
 * Dependency-injection tokens. Every injectable dependency in Tollgate is bound to one of
 * these symbols; inject with `@inject(TOKENS.X)`, never by class (emitted decorator
 * metadata is missing under some transpilers). `Symbol.for` keeps them identical across
 * duplicate package copies. The agents layer's own keys (`AgentDeps`, `AgentGovernor`,
 * `ToolRegistry` and its factories) live in `AGENT_TOKENS` of `@tollgate/agents`; the
 * entries here under those names are the same symbols, kept for existing code.
 */
export const TOKENS = {
  Clock: Symbol.for('tollgate.Clock'),
  Logger: Symbol.for('tollgate.Logger'),
  TokenCounter: Symbol.for('tollgate.TokenCounter'),
  MemoryProbe: Symbol.for('tollgate.MemoryProbe'),
  ResourceLimits: Symbol.for('tollgate.ResourceLimits'),
  /**
   * The per-agent governor (transient: one per agent).
   * @deprecated Use `AGENT_TOKENS.AgentGovernor` from `@tollgate/agents` (the same symbol).
   */
  AgentGovernor: Symbol.for('tollgate.AgentGovernor'),
  /** The provider-level governor (singleton: shared by every agent of the process). */
  ProviderGovernor: Symbol.for('tollgate.ProviderGovernor'),
  ProviderLimits: Symbol.for('tollgate.ProviderLimits'),
  LLMClient: Symbol.for('tollgate.LLMClient'),
  GovernedClient: Symbol.for('tollgate.GovernedClient'),
  /** @deprecated Use `AGENT_TOKENS.ToolRegistry` from `@tollgate/agents` (the same symbol). */
  ToolRegistry: Symbol.for('tollgate.ToolRegistry'),
  /** @deprecated Use `AGENT_TOKENS.AgentDeps` from `@tollgate/agents` (the same symbol). */
  AgentDeps: Symbol.for('tollgate.AgentDeps'),
  QuotaStore: Symbol.for('tollgate.QuotaStore'),
} as const;

export type TokenName = keyof typeof TOKENS;
