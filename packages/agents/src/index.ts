export { agent } from './agent/agentDecorator.js';
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
  bindAgent,
  createTollgateContainer,
  ENV_PREFIXES,
  type ResolvedTollgateLimits,
  resolveTollgateLimits,
  type TollgateOptions,
  tollgateModule,
} from './container/createTollgateContainer.js';
export {
  InvalidToolArgumentsError,
  MaxIterationsExceededError,
  OutputParseError,
  ToolExecutionError,
  ToolTimeoutError,
  UnknownToolError,
} from './errors.js';
export { costOf, DEFAULT_PRICING, type ModelPrice, type PricingTable, priceOf } from './pricing.js';
export { defineTool, type Tool, type ToolContext, type ToolSpec } from './tools/defineTool.js';
export { type RunToolOptions, runTool, type ToolOutcome } from './tools/runTool.js';
export { ToolRegistry } from './tools/ToolRegistry.js';
