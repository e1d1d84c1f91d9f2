/**
 * The gateway in front of every caller: an admin creates a key, then the OpenAI, Anthropic
 * and Gemini SDKs call through it (against the embedded simulator), and the admin reads
 * /metrics. Open the printed /dashboard/ URL in a browser while it runs to watch it live.
 *
 *   npm run example:gateway
 */
import { pathToFileURL } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { silentLogger } from '@tollgate/core';
import { startGateway } from '@tollgate/gateway';
import OpenAI from 'openai';

const ADMIN = 'tg-example-admin-key-0123456789';

export async function main({ log = console.log }: { log?: (line: string) => void } = {}) {
  const gateway = await startGateway({ port: 0, docs: false, adminKey: ADMIN }, { logger: silentLogger });
  try {
    log(`gateway on ${gateway.url} (dashboard: ${gateway.url}/dashboard/, user any, password the admin key)`);
    const created = await fetch(`${gateway.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'example-app',
        permissions: ['write'],
        limits: { maxRequestsPerMinute: 30 },
      }),
    });
    const { key } = (await created.json()) as { key: string };

    const openai = new OpenAI({ apiKey: key, baseURL: gateway.baseURL });
    const chat = await openai.chat.completions.create({
      model: 'sim-small',
      messages: [{ role: 'user', content: 'Hello from OpenAI' }],
      max_tokens: 20,
    });
    const claude = new Anthropic({ apiKey: key, baseURL: gateway.url });
    const message = await claude.messages.create({
      model: 'claude-sim',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'Hello from Anthropic' }],
    });
    const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: gateway.url } });
    const gemini = await ai.models.generateContent({
      model: 'gemini-sim',
      contents: 'Hello from Gemini',
      config: { maxOutputTokens: 20 },
    });
    const answers = {
      openai: chat.choices[0]?.message.content ?? '',
      anthropic: message.content[0]?.type === 'text' ? message.content[0].text : '',
      gemini: gemini.text ?? '',
    };
    for (const [provider, text] of Object.entries(answers)) log(`${provider}: ${text.slice(0, 60)}`);

    const metrics = await (
      await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
    ).text();
    const admissions = metrics.split('\n').filter((l) => l.startsWith('tollgate_admissions_total'));
    log('from /metrics:');
    for (const line of admissions) log(`  ${line}`);
    return { answers, admissions };
  } finally {
    await gateway.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
