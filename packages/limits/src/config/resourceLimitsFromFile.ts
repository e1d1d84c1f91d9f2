// resourceLimitsFromFile: ResourceLimits read from a JSON or YAML file.
import { readFile } from 'node:fs/promises';
import { InvalidLimitsError } from '@tollgate/core';
import { parseResourceLimits } from './parseResourceLimits.js';
import type { ParsedResourceLimits } from './ResourceLimits.js';

/**
 * Reads limits from a JSON or YAML file (by extension: `.json`, `.yaml`, `.yml`). The
 * limits are the whole document, or its `resourceLimits` / `resource_limits` key. The
 * YAML parser is loaded only when a YAML file is read.
 *
 * @throws InvalidLimitsError when the file cannot be parsed or the limits are invalid.
 */
export async function resourceLimitsFromFile(path: string): Promise<ParsedResourceLimits> {
  const text = await readFile(path, 'utf8');
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(path) ? (await import('yaml')).parse(text) : JSON.parse(text);
  } catch (error) {
    throw new InvalidLimitsError([
      { field: path, expected: 'a readable JSON or YAML document', received: String(error) },
    ]);
  }
  const record = (doc ?? {}) as Record<string, unknown>;
  return parseResourceLimits(record.resourceLimits ?? record.resource_limits ?? record);
}
