import { describe, expect, it } from 'vitest';
import type { HttpError } from './HttpError.js';
import { joinedText, MAX_DEPTH, optionalString, readJsonObject, turnMessages } from './requestFields.js';

const wording = { notJson: 'not json', notObject: 'not an object', tooDeep: 'too deep' };
const refusal = (read: () => unknown) => {
  try {
    read();
  } catch (error) {
    return {
      status: (error as HttpError).status,
      param: (error as HttpError).param,
      message: (error as Error).message,
    };
  }
  throw new Error('expected a 400');
};

describe('request field readers', () => {
  it('reads a JSON object body, or refuses it in the protocol’s words', () => {
    expect(readJsonObject(Buffer.from('{"a":[1]}'), 'body', wording)).toEqual({ a: [1] });
    expect(refusal(() => readJsonObject(Buffer.from('{'), 'body', wording))).toEqual({
      status: 400,
      param: 'body',
      message: 'not json',
    });
    expect(refusal(() => readJsonObject(Buffer.from('[1]'), 'body', wording)).message).toBe('not an object');
    const deep = `${'{"a":'.repeat(MAX_DEPTH)}1${'}'.repeat(MAX_DEPTH)}`;
    expect(readJsonObject(Buffer.from(deep), 'body', wording)).toBeTypeOf('object');
    const deeper = `${'{"a":'.repeat(MAX_DEPTH + 1)}1${'}'.repeat(MAX_DEPTH + 1)}`;
    expect(refusal(() => readJsonObject(Buffer.from(deeper), 'body', wording)).message).toBe('too deep');
    expect(refusal(() => readJsonObject(Buffer.from('nope'), null))).toEqual({
      status: 400,
      param: null,
      message: 'The request body is not valid JSON.',
    });
  });

  it('reads an optional string, refusing any other JSON value', () => {
    expect(optionalString('x', 'p')).toBe('x');
    expect(optionalString(undefined, 'p', 'none')).toBe('none');
    expect(optionalString(null, 'p')).toBe('');
    expect(refusal(() => optionalString({ toString: 1 }, 'tools.0.name'))).toEqual({
      status: 400,
      param: 'tools.0.name',
      message: 'tools.0.name: Input should be a valid string.',
    });
  });

  it('joins the text of a list of parts, skipping parts without text', () => {
    expect(joinedText([{ text: 'a' }, { image: 1 }, 'b', null, { text: 'c' }])).toBe('ac');
    expect(joinedText('not a list')).toBe('');
    expect(joinedText(undefined)).toBe('');
  });

  it('puts tool results before the turn, and drops a turn that held only results', () => {
    const result = { role: 'tool', tool_call_id: 'c1', content: '{}' };
    const call = { function: { name: 'lookup', arguments: '{}' } };
    expect(turnMessages('user', '', [], [result])).toEqual([result]);
    expect(turnMessages('user', 'and then?', [], [result])).toEqual([
      result,
      { role: 'user', content: 'and then?' },
    ]);
    expect(turnMessages('assistant', '', [call], [])).toEqual([
      { role: 'assistant', content: '', tool_calls: [call] },
    ]);
    expect(turnMessages('user', '', [], [])).toEqual([{ role: 'user', content: '' }]);
  });
});
