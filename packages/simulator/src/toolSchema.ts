// Checks on tool input the simulator composes replies from: schemas it samples, strings it names.
import { HttpError } from './HttpError.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Where a tool's JSON schema has a `required` that is not a list of strings (at its top or
 * in a nested `properties` or `items` schema), as a dotted path under `at`, or undefined.
 * Replies sample arguments from the schema, so such a schema is refused before admission.
 */
export function badRequired(schema: unknown, at: string): string | undefined {
  const stack: Array<[unknown, string]> = [[schema, at]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (!isObject(node)) continue;
    const { required, properties, items } = node;
    if (
      required !== undefined &&
      !(Array.isArray(required) && required.every((r) => typeof r === 'string'))
    ) {
      return `${path}.required`;
    }
    if (isObject(properties)) {
      for (const [name, child] of Object.entries(properties))
        stack.push([child, `${path}.properties.${name}`]);
    }
    stack.push([items, `${path}.items`]);
  }
  return undefined;
}

/**
 * A 400 about the tool schema's field `param` (from {@link badRequired}), in the protocol's
 * wording: `expected a list of property names`.
 */
export function badSchemaError(param: string): HttpError {
  return HttpError.invalid(param, `${param}: Input should be a list of property names (strings).`);
}

/**
 * `value` when it is a string, `fallback` when it is absent; otherwise a 400 naming `param`
 * (a JSON value such as `{"toString":1}` must not reach `String()`).
 */
export function optionalString(value: unknown, param: string, fallback = ''): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw HttpError.invalid(param, `${param}: Input should be a valid string.`);
  return value;
}
