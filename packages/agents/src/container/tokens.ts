// The dependency-injection tokens of the agents layer.

/**
 * The keys the agents layer binds in a container (the shared ones, `TOKENS.Clock`,
 * `TOKENS.ProviderGovernor` and the like, stay in `@tollgate/core`). `Symbol.for` keeps
 * them identical across duplicate package copies, and identical to the deprecated entries
 * of core's `TOKENS` that had these names.
 *
 * @example
 * container.rebind(AGENT_TOKENS.GovernorFactory).toConstantValue(myGovernorFactory);
 */
export const AGENT_TOKENS = {
  /** What each agent is built from (transient: each agent gets its own). */
  AgentDeps: Symbol.for('tollgate.AgentDeps'),
  /** The per-agent governor (transient: one per agent). */
  AgentGovernor: Symbol.for('tollgate.AgentGovernor'),
  /** The tools agents may name in their `tools` list. */
  ToolRegistry: Symbol.for('tollgate.ToolRegistry'),
  /** Builds each agent's own governor (a `GovernorFactory`). */
  GovernorFactory: Symbol.for('tollgate.GovernorFactory'),
  /** Builds the client each agent calls through (an `AgentClientFactory`). */
  AgentClientFactory: Symbol.for('tollgate.AgentClientFactory'),
  /** The container's providers and the governor of each one's quota (a `ProviderSet`). */
  Providers: Symbol.for('tollgate.Providers'),
  /** Builds the deps of an agent on a named provider (an `AgentDepsFor`; see `agentDepsFor`). */
  AgentDepsFor: Symbol.for('tollgate.AgentDepsFor'),
  /** The container's `IdSource`: agent ids are numbered per container. */
  IdSource: Symbol.for('tollgate.IdSource'),
} as const;

/** The name of one of {@link AGENT_TOKENS}. */
export type AgentTokenName = keyof typeof AGENT_TOKENS;
