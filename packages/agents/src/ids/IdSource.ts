// Numbered ids (agents, tasks), one source per container, so no id depends on module state.

/**
 * Hands out ids numbered per prefix: `next('agent')` is `agent-1`, then `agent-2`. A
 * container has one (under `AGENT_TOKENS.IdSource`), so two containers number their agents
 * independently and a test's ids do not depend on what ran before it.
 *
 * @example
 * const ids = new IdSource();
 * ids.next('agent'); // 'agent-1'
 * ids.next('agent-1/task'); // 'agent-1/task-1'
 */
export class IdSource {
  readonly #counts = new Map<string, number>();

  /** The next id under `prefix`: `<prefix>-<n>`, n counting from 1. */
  next(prefix: string): string {
    const n = (this.#counts.get(prefix) ?? 0) + 1;
    this.#counts.set(prefix, n);
    return `${prefix}-${n}`;
  }
}
