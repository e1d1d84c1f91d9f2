// Reading a Gemini `generateContent` request: checked, and mapped to the neutral shapes replies are composed from.
import type { CountableMessage } from '@tollgate/core';
import type { OfferedTool } from './compose.js';
import { HttpError } from './HttpError.js';
import {
  type BodyWording,
  isObject,
  type Json,
  joinedText,
  MAX_DEPTH,
  optionalString,
  readJsonObject,
  turnMessages,
} from './requestFields.js';
import { badRequired, badSchemaError } from './toolSchema.js';

/** A checked `generateContent` body, with its conversation in the neutral shape. */
export interface GeminiBody {
  readonly maxTokens: unknown;
  readonly messages: CountableMessage[];
  readonly tools: OfferedTool[];
  /** `'none'`, `{ function: { name } }` for one allowed function, or undefined. */
  readonly toolChoice: unknown;
}

const invalid = (param: string, message: string) => HttpError.invalid(param, message);

/** How Gemini words a body that cannot be read. */
const GEMINI_WORDING: BodyWording = {
  notJson: 'Invalid JSON payload received.',
  notObject: 'Invalid JSON payload received: expected an object.',
  tooDeep: `The request is nested deeper than ${MAX_DEPTH} levels.`,
};

/** Parses and checks a `generateContent` body: a 400 `INVALID_ARGUMENT` naming the field otherwise. */
export function parseGeminiBody(raw: Buffer): GeminiBody {
  const value = readJsonObject(raw, '', GEMINI_WORDING);
  if (!Array.isArray(value.contents) || value.contents.length === 0) {
    throw invalid('contents', '* GenerateContentRequest.contents: contents is not specified');
  }
  const config = isObject(value.generationConfig) ? value.generationConfig : {};
  const system = isObject(value.systemInstruction) ? joinedText(value.systemInstruction.parts) : '';
  return {
    maxTokens: config.maxOutputTokens,
    messages: [
      ...(system ? [{ role: 'system', content: system }] : []),
      ...value.contents.flatMap(toCountable),
    ],
    tools: toolsOf(value.tools),
    toolChoice: toolChoiceOf(value.toolConfig),
  };
}

function toolsOf(tools: unknown): OfferedTool[] {
  if (tools === undefined) return [];
  if (!Array.isArray(tools)) throw invalid('tools', '* GenerateContentRequest.tools: expected a list');
  return tools.flatMap((t, i) =>
    isObject(t) && Array.isArray(t.functionDeclarations)
      ? t.functionDeclarations
          .filter(isObject)
          .map((f, j) => declaration(f, `tools[${i}].functionDeclarations[${j}]`))
      : [],
  );
}

function declaration(f: Json, at: string): OfferedTool {
  const param = `* GenerateContentRequest.${at}`;
  const parameters = f.parametersJsonSchema ?? f.parameters;
  const bad = badRequired(parameters, `${param}.parameters`);
  if (bad) throw badSchemaError(bad);
  return { function: { name: optionalString(f.name, `${param}.name`), parameters } };
}

function toolChoiceOf(config: unknown): unknown {
  const calling =
    isObject(config) && isObject(config.functionCallingConfig) ? config.functionCallingConfig : {};
  if (calling.mode === 'NONE') return 'none';
  const allowed = calling.allowedFunctionNames;
  if (calling.mode === 'ANY' && Array.isArray(allowed) && allowed.length === 1) {
    const param = '* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names[0]';
    return { function: { name: optionalString(allowed[0], param) } };
  }
  return undefined;
}

/** One content as countable messages: function responses become `tool` messages of their own. */
function toCountable(content: unknown, i: number): CountableMessage[] {
  const at = `contents[${i}]`;
  if (!isObject(content) || !Array.isArray(content.parts) || !content.parts.every(isObject)) {
    throw invalid(at, `* GenerateContentRequest.${at}.parts: expected a list of parts`);
  }
  const role = content.role === 'model' ? 'assistant' : 'user';
  const param = `* GenerateContentRequest.${at}.parts`;
  const parts = content.parts as Json[];
  const results = parts
    .map((p) => p.functionResponse)
    .filter(isObject)
    .map((r) => ({
      role: 'tool',
      tool_call_id:
        optionalString(r.id, `${param}.functionResponse.id`) ||
        optionalString(r.name, `${param}.functionResponse.name`),
      content: JSON.stringify(r.response ?? {}),
    }));
  const calls = parts
    .map((p) => p.functionCall)
    .filter(isObject)
    .map((c) => ({
      function: {
        name: optionalString(c.name, `${param}.functionCall.name`),
        arguments: JSON.stringify(c.args ?? {}),
      },
    }));
  return turnMessages(role, joinedText(parts), calls, results);
}
