// Runs the official `openai` SDK the way a tool does: key and base URL from the environment only
// (OPENAI_API_KEY, OPENAI_BASE_URL). Prints one JSON line with what it saw, so tests can check
// the key in its own environment and /proc/self/environ, and when streamed chunks arrived.
// usage: node openai-client.mjs chat|stream|models|wrong-key|calls N|wait-then-chat
import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [mode = 'chat', arg] = process.argv.slice(2);
const report = {
  pid: process.pid,
  apiKey: process.env.OPENAI_API_KEY ?? null,
  baseUrl: process.env.OPENAI_BASE_URL ?? null,
  environ: readFileSync('/proc/self/environ').toString('base64'),
};
const client = new OpenAI({ maxRetries: 0, timeout: 20_000, ...(mode === 'wrong-key' ? { apiKey: 'xares-placeholder-wrong' } : {}) });
const chat = () => client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
const failure = (e) => ({ status: e?.status ?? null, message: String(e?.message ?? e) });

try {
  if (mode === 'chat' || mode === 'wrong-key') {
    report.content = (await chat()).choices[0].message.content;
  } else if (mode === 'models') {
    report.models = (await client.models.list()).data.map((m) => m.id);
  } else if (mode === 'stream') {
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true });
    report.chunks = [];
    for await (const chunk of stream) {
      report.chunks.push({ ms: Date.now() - started, at: Date.now(), text: chunk.choices[0]?.delta?.content ?? '' });
    }
  } else if (mode === 'calls') {
    report.statuses = [];
    for (let i = 0; i < Number(arg ?? 1); i++) {
      try { await chat(); report.statuses.push(200); } catch (e) { report.statuses.push(e?.status ?? 0); report.lastError = failure(e); }
      await new Promise((r) => setTimeout(r, 150));
    }
  } else if (mode === 'wait-then-chat') {
    report.first = (await chat()).choices[0].message.content;
    console.log('first-call-done');
    const lines = createInterface({ input: process.stdin });
    for await (const _ of lines) { break; }
    report.second = (await chat()).choices[0].message.content;
  }
} catch (e) {
  report.error = failure(e);
}
console.log(JSON.stringify(report));
