// An agent's tool registry, from its tools and the names it takes from the shared registry.
import { InvalidArgumentError } from '@tollgate/core';
import type { Tool } from '../tools/defineTool.js';
import { ToolRegistry } from '../tools/ToolRegistry.js';

/** A tool of any argument and result types. */
// biome-ignore lint/suspicious/noExplicitAny: a tool list holds tools of any argument and result types.
export type AnyTool = Tool<any, any>;

/**
 * The registry of agent `agentName`'s tools: each tool as given, each name looked up in
 * `shared`.
 * @throws InvalidArgumentError for a name `shared` does not have, or a duplicate.
 */
export function resolveTools(
  agentName: string,
  tools: readonly (AnyTool | string)[],
  shared: ToolRegistry | undefined,
): ToolRegistry {
  const registry = new ToolRegistry();
  for (const entry of tools) {
    if (typeof entry !== 'string') {
      registry.register(entry);
      continue;
    }
    const tool = shared?.get(entry);
    if (!tool)
      throw new InvalidArgumentError(
        `${agentName}.tools`,
        `names of tools in the shared registry (${shared?.names.join(', ') || 'empty'})`,
        entry,
      );
    registry.register(tool);
  }
  return registry;
}
