/** Re-exported from @tollgate/core, where the token counters throw it. */
export { TokenCountError } from '@tollgate/core';
export { agent } from './agent/agentDecorator.js';
export {
  type AgentClient,
  type AgentClientContext,
  type AgentClientFactory,
  type GovernorFactory,
  type GovernorFactoryContext,
  governedClientFactory,
  isOwnedByAgent,
  ownedByAgent,
  resourceGovernorFactory,
} from './agent/factories.js';
export { type AnyTool, HybridAgent, type OutputInfo } from './agent/HybridAgent.js';
export type {
  AgentClientOptions,
  AgentDeps,
  AgentEvent,
  AgentResourceStatus,
  AgentTask,
  NormalizedTask,
  TaskContext,
  TaskResult,
  TaskStatus,
  ToolCallRecord,
} from './agent/types.js';
export {
  Consensus,
  type ConsensusEvent,
  type ConsensusOptions,
  type ConsensusResult,
  type DecisionMethod,
  normalizeAnswer,
  parseVote,
  type TallyEntry,
  type TieBreak,
  tallyVotes,
  type Vote,
} from './consensus/Consensus.js';
export type { AgentDepsFor } from './container/bindAgentParts.js';
export {
  agentDepsFor,
  type BindAgentOptions,
  bindAgent,
  createTollgateContainer,
  ENV_PREFIXES,
  type ResolvedTollgateLimits,
  resolveTollgateLimits,
  type TollgateOptions,
  tollgateModule,
} from './container/createTollgateContainer.js';
export {
  ProviderSet,
  type ProviderSetup,
  type ProviderStore,
  providerEnvPrefix,
  type ResolvedProvider,
} from './container/providers.js';
export { AGENT_TOKENS, type AgentTokenName } from './container/tokens.js';
export {
  InvalidToolArgumentsError,
  MaxIterationsExceededError,
  OutputParseError,
  ToolExecutionError,
  ToolResultError,
  ToolTimeoutError,
  UnknownToolError,
} from './errors.js';
export { AgentFleet } from './fleet/AgentFleet.js';
export { FleetProgress, type FleetProgressOptions, type ProgressStream } from './fleet/FleetProgress.js';
export {
  type FormatReportOptions,
  formatReport,
  table,
  type WriteReportOptions,
  writeReport,
} from './fleet/report.js';
export type {
  AgentFleetOptions,
  AgentRow,
  FleetBudget,
  FleetEvent,
  FleetTask,
  LimitUtilisation,
  RoundContext,
  RoundOptions,
  RoundSource,
  RunEstimate,
  RunReport,
  StopReason,
  TaskEstimate,
} from './fleet/types.js';
export { UsageMeter } from './fleet/UsageMeter.js';
export { IdSource } from './ids/IdSource.js';
export { costOf, DEFAULT_PRICING, type ModelPrice, type PricingTable, priceOf } from './pricing.js';
export { defineTool, type Tool, type ToolContext, type ToolSpec } from './tools/defineTool.js';
export {
  DEFAULT_MAX_TOOL_RESULT_CHARS,
  type RunToolOptions,
  runTool,
  type ToolOutcome,
} from './tools/runTool.js';
export { ToolRegistry } from './tools/ToolRegistry.js';
