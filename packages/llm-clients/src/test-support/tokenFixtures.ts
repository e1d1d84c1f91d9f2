// Prompts of many kinds, for measuring how a token estimate compares with a provider's reported count.
import type { ChatRequest, ToolDefinition } from '../types.js';

const lookup: ToolDefinition = {
  name: 'lookup',
  description: 'Looks a record up by id.',
  parameters: {
    type: 'object',
    properties: { id: { type: 'integer' }, fields: { type: 'array', items: { type: 'string' } } },
    required: ['id'],
  },
};

const prose =
  'Rate limits protect a shared service from any one caller. A fleet of agents that share a key must agree on who goes next, or the provider will refuse some of them and every refusal costs a retry.';
const code = `export function backoff(attempt: number, base = 250, cap = 8_000): number {
  const ceiling = Math.min(cap, base * 2 ** attempt);
  return Math.floor(Math.random() * ceiling);
}
for (let i = 0; i < 10; i++) console.log(i, backoff(i));`;
const json = JSON.stringify({
  orders: Array.from({ length: 12 }, (_, i) => ({
    id: 1000 + i,
    sku: `SKU-${i * 37}`,
    qty: i % 4,
    price: 9.99 + i,
  })),
});
const cjk =
  '速率限制保护共享服务不被任何一个调用者独占。共享同一个密钥的代理必须商定谁先发送请求。レート制限は共有サービスを守ります。';
const numbers = Array.from({ length: 60 }, (_, i) => (i * 7919) % 10007).join(', ');

const user = (content: string) => ({ role: 'user' as const, content });

/** Named requests: prose, code, JSON, CJK, numbers, a long system prompt, and tool turns. */
export const TOKEN_FIXTURES: ReadonlyArray<{ readonly name: string; readonly request: ChatRequest }> = [
  { name: 'short question', request: { messages: [user('What is a token bucket?')] } },
  {
    name: 'prose',
    request: { messages: [{ role: 'system', content: 'You are a careful analyst.' }, user(prose)] },
  },
  { name: 'long prose', request: { messages: [user(Array.from({ length: 12 }, () => prose).join('\n\n'))] } },
  { name: 'code', request: { messages: [user(`Review this:\n\n${code}`)] } },
  { name: 'json', request: { messages: [user(`Summarise these orders: ${json}`)] } },
  { name: 'cjk', request: { messages: [user(cjk)] } },
  { name: 'numbers', request: { messages: [user(`Sum these: ${numbers}`)] } },
  {
    name: 'conversation',
    request: {
      messages: [
        { role: 'system', content: 'Answer in one paragraph.' },
        user('Why do providers limit output tokens apart from input tokens?'),
        {
          role: 'assistant',
          content: 'Output is generated token by token and costs far more compute than reading input.',
        },
        user('So which limit binds first for long answers?'),
      ],
    },
  },
  { name: 'tools offered', request: { messages: [user('Find order 1007.')], tools: [lookup] } },
  {
    name: 'tool turn',
    request: {
      tools: [lookup],
      messages: [
        user('Find order 1007 and tell me its price.'),
        {
          role: 'assistant',
          content: null,
          toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"id":1007,"fields":["price","qty"]}' }],
        },
        { role: 'tool', toolCallId: 'call_1', content: '{"id":1007,"price":16.99,"qty":3}' },
      ],
    },
  },
];
