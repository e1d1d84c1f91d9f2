/** The fields of a provider's error object that Tollgate reads. */
export interface ErrorObject {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly type?: unknown;
  readonly status?: unknown;
  readonly details?: unknown;
}

/**
 * The error objects of an error body: `{ error }`, a list of those (Gemini's
 * OpenAI-compatible endpoint), or the error object itself (what the openai SDK keeps as
 * `APIError.error`).
 */
export function errorObjects(body: unknown): ErrorObject[] {
  const items = Array.isArray(body) ? body : [body];
  return items
    .map((item) => {
      const inner = (item as { error?: unknown } | null)?.error;
      return typeof inner === 'object' && inner !== null ? inner : item;
    })
    .filter((e): e is ErrorObject => typeof e === 'object' && e !== null);
}
