// Checks on the tool schemas the simulator samples reply arguments from.
import { HttpError } from './HttpError.js';
import { isObject } from './requestFields.js';

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
