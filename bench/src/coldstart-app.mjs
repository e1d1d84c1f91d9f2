// An agent app's first moments, run in a new process by coldstart.ts: import the packages,
// build the container, make one governed call to the simulator at SIMULATOR_BASE_URL.
// Prints the times since the process started, in ms.
const { bindAgent, createTollgateContainer, HybridAgent } = await import('@tollgate/agents');
const { openai } = await import('@tollgate/llm-clients');
const importedMs = performance.now();

class Greeter extends HybridAgent {
  systemPrompt = 'Say hello.';
}

const container = createTollgateContainer({
  provider: openai({ model: 'gpt-4o-mini', baseURL: process.env.SIMULATOR_BASE_URL, apiKey: 'sk-bench' }),
  env: {},
});
const agent = bindAgent(container, Greeter).get(Greeter);
const result = await agent.executeTask('hello');
const firstCallMs = performance.now();
agent.dispose();
process.stdout.write(JSON.stringify({ status: result.status, importedMs, firstCallMs }));
