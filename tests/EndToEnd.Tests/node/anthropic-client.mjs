// Runs the official `@anthropic-ai/sdk` the way Claude Code-style tools do: key and base URL from
// the environment only (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL). Prints one JSON line.
// usage: node anthropic-client.mjs message|stream
import Anthropic from '@anthropic-ai/sdk';
import { readFileSync } from 'node:fs';

const [mode = 'message'] = process.argv.slice(2);
const report = {
  pid: process.pid,
  apiKey: process.env.ANTHROPIC_API_KEY ?? null,
  baseUrl: process.env.ANTHROPIC_BASE_URL ?? null,
  environ: readFileSync('/proc/self/environ').toString('base64'),
};
const client = new Anthropic({ maxRetries: 0, timeout: 20_000 });
const request = { model: 'claude-test', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };

try {
  if (mode === 'message') {
    const message = await client.messages.create(request);
    report.content = message.content.map((b) => b.text).join('');
    report.usage = message.usage;
  } else if (mode === 'stream') {
    const started = Date.now();
    report.chunks = [];
    const stream = await client.messages.create({ ...request, stream: true });
    for await (const event of stream) {
      if (event.type === 'content_block_delta') {
        report.chunks.push({ ms: Date.now() - started, at: Date.now(), text: event.delta.text });
      }
    }
  }
} catch (e) {
  report.error = { status: e?.status ?? null, message: String(e?.message ?? e) };
}
console.log(JSON.stringify(report));
