// The acceptance scenarios S1–S13 (scenarios.md; S13, dynamic groups, in src/simulator/scenarios/README.md), played
// at small scale by the simulator against a service started in this process (its own in-memory Azurite and the
// Functions host on free ports), over HTTP only.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runScenario, SCENARIOS } from '../../src/simulator/scenarios/index.js';
import { type ServiceEndpoint, startEmbeddedService } from '../../src/simulator/service.js';

let service: ServiceEndpoint | undefined;
const lines: string[] = [];

beforeAll(async () => {
  service = await startEmbeddedService();
}, 60_000);

afterAll(async () => {
  await service?.stop();
}, 30_000);

describe('the simulator plays the acceptance scenarios (small scale)', () => {
  for (const name of SCENARIOS) {
    it(`${name} plays out as scenarios.md says`, async () => {
      if (!service) throw new Error('the embedded service did not start');
      lines.length = 0;
      try {
        await runScenario(name, service, { scale: 'small', log: (line) => lines.push(line) });
      } catch (error: unknown) {
        // The steps that led to the failure, then the failure itself.
        console.log(lines.join('\n'));
        throw error;
      }
      if (process.env.SCENARIO_LOG) console.log(lines.join('\n'));
    }, 60_000);
  }
});
