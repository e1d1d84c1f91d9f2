/**
 * Consensus of three agents: different models and temperatures answer the same question,
 * the majority of normalised answers wins, a judge breaks ties, and the votes stream as
 * they arrive. Offline: each "model" is a ScriptedClient.
 *
 *   npm run example:consensus
 */
import { pathToFileURL } from 'node:url';
import { Consensus, type ConsensusResult, HybridAgent } from '@tollgate/agents';
import { HeuristicTokenCounter } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { ScriptedClient } from '@tollgate/llm-clients';

class Answerer extends HybridAgent {
  readonly systemPrompt = 'Answer in a few words, then "Confidence: <0-1>" on its own line.';
}

/** A stand-in model that always gives one answer, after some latency. */
function model(name: string, answer: string, delayMs: number) {
  return new ScriptedClient({ model: name, script: () => ({ content: answer }), delayMs });
}

export async function main(
  question = 'Which limiter never admits more than N calls in any window?',
  log: (line: string) => void = console.log,
): Promise<ConsensusResult> {
  const tokenCounter = new HeuristicTokenCounter();
  const provider = new ResourceGovernor({ maxRequestsPerMinute: 60 }, { name: 'provider' });
  const voter = (client: ScriptedClient, temperature: number, agentId: string) => {
    class Tuned extends Answerer {
      override readonly temperature = temperature;
    }
    return new Tuned({ client, tokenCounter, providerGovernor: provider, agentId });
  };
  // #region consensus
  const consensus = new Consensus({
    agents: [
      voter(model('model-a', 'A sliding window.\nConfidence: 0.9', 30), 0.2, 'careful'),
      voter(model('model-b', 'The token bucket\nConfidence: 0.6', 10), 0.9, 'bold'),
      voter(model('model-c', 'sliding window\nConfidence: 0.8', 20), 0.5, 'middle'),
    ],
    tieBreak: { judge: voter(model('judge', 'sliding window', 5), 0, 'judge') },
  });
  consensus.events$.subscribe((e) => {
    if (e.type === 'vote') log(`vote from ${e.vote.agentId}: ${e.vote.answer} (${e.vote.confidence ?? '?'})`);
    if (e.type === 'decision') log(`decision by ${e.method}: ${e.decision}`);
  });
  const result = await consensus.decide(question);
  // #endregion consensus
  log(result.tally.map((t) => `${t.votes} x "${t.normalized}"`).join(', '));
  provider.dispose();
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
