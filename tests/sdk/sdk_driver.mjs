// Drives the official TypeScript SDK (@openai/codex-sdk) for tests/sdk: one scenario per run,
// named in argv[2], with its settings as JSON in argv[3]; prints one JSON object with what the
// SDK returned (or the error it threw). The SDK is loaded from SDK_DIR (the cached install).
import path from "node:path";
import { pathToFileURL } from "node:url";

const [scenario, rawSettings] = process.argv.slice(2);
const settings = JSON.parse(rawSettings);
const entry = path.join(process.env.SDK_DIR, "node_modules/@openai/codex-sdk/dist/index.js");
const { Codex } = await import(pathToFileURL(entry).href);

const codex = new Codex({
  codexPathOverride: settings.codexPath,
  baseUrl: settings.baseUrl,
  apiKey: settings.apiKey,
  env: settings.env,
});
const threadOptions = { workingDirectory: settings.workdir, ...settings.threadOptions };

async function run() {
  switch (scenario) {
    case "run": {
      const thread = codex.startThread(threadOptions);
      const turn = await thread.run(settings.prompt, { outputSchema: settings.outputSchema });
      return { threadId: thread.id, ...turn };
    }
    case "runStreamed": {
      const thread = codex.startThread(threadOptions);
      const { events } = await thread.runStreamed(settings.prompt);
      const seen = [];
      try {
        for await (const event of events) seen.push(event);
      } catch (error) {
        return { threadId: thread.id, events: seen, error: { message: String(error.message) } };
      }
      return { threadId: thread.id, events: seen, error: null };
    }
    case "resume": {
      const first = codex.startThread(threadOptions);
      const one = await first.run(settings.prompt);
      const again = codex.resumeThread(first.id, threadOptions);
      const two = await again.run(settings.secondPrompt);
      return { threadId: first.id, resumedId: again.id, first: one, second: two };
    }
    case "abort": {
      const thread = codex.startThread(threadOptions);
      const controller = new AbortController();
      const { events } = await thread.runStreamed(settings.prompt, { signal: controller.signal });
      const seen = [];
      try {
        for await (const event of events) {
          seen.push(event);
          if (event.type === settings.abortAfter) controller.abort();
        }
        return { seen, error: null };
      } catch (error) {
        return { seen, error: { name: error.name, message: String(error.message) } };
      }
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

try {
  console.log(JSON.stringify({ ok: true, result: await run() }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: { name: error.name, message: error.message } }));
}
