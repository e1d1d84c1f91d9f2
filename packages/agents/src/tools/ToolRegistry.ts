// ToolRegistry: tools by name, an agent's own or the container's shared ones.
import { InvalidArgumentError } from '@tollgate/core';
import type { ToolDefinition } from '@tollgate/llm-clients';
import type { Tool } from './defineTool.js';

/**
 * Tools by name. Each agent has one (its own tools); the container holds a shared one whose
 * tools agents may name instead of importing (`tools = ['search']`).
 */
export class ToolRegistry {
  readonly #tools = new Map<string, Tool>();

  constructor(tools: Iterable<Tool> = []) {
    for (const tool of tools) this.register(tool);
  }

  /** @throws InvalidArgumentError when a tool of that name is already registered. */
  register(...tools: Tool[]): this {
    for (const tool of tools) {
      if (this.#tools.has(tool.name))
        throw new InvalidArgumentError('tool', `a name not registered yet`, tool.name);
      this.#tools.set(tool.name, tool);
    }
    return this;
  }

  has(name: string): boolean {
    return this.#tools.has(name);
  }

  get(name: string): Tool | undefined {
    return this.#tools.get(name);
  }

  get names(): string[] {
    return [...this.#tools.keys()];
  }

  get size(): number {
    return this.#tools.size;
  }

  list(): Tool[] {
    return [...this.#tools.values()];
  }

  /** What the provider is sent, in registration order. */
  definitions(): ToolDefinition[] {
    return this.list().map((tool) => tool.definition);
  }
}
