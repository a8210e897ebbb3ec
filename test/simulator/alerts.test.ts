// The simulator's alert check: churn on a generated tenant, then every license error the licensed groups show is
// announced to a receiver subscribed before the churn (zero missed), signed, and none parked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { watchAlerts } from '../../src/simulator/alert-check.js';
import { churn } from '../../src/simulator/churn.js';
import { provisionTenant } from '../../src/simulator/generate.js';
import { silentProgress } from '../../src/simulator/progress.js';
import {
  graphClient,
  OperatorClient,
  type ServiceEndpoint,
  startEmbeddedService,
} from '../../src/simulator/service.js';

const catalog = loadCatalog();
let service: ServiceEndpoint;
beforeAll(async () => {
  service = await startEmbeddedService({ env: { ALERT_DEBOUNCE_SECONDS: '2' } });
}, 60_000);
afterAll(async () => {
  await service?.stop();
});

describe('churn with the alert check', () => {
  it('leaves no license error unannounced', async () => {
    const operator = new OperatorClient(service.baseUrl, service.adminKey);
    const { state } = await provisionTenant(
      operator,
      catalog,
      { users: 400, groups: 10, devices: 10, seed: 3 },
      silentProgress,
    );
    const watch = await watchAlerts(operator, state.tenant.id);
    try {
      await churn(operator, catalog, state, { events: 200, seed: 5 }, silentProgress);
      await operator.waitIdle(state.tenant.id, 120_000);
      const graph = graphClient(service.baseUrl, await operator.token(state.tenant.id));
      const result = await watch.check(graph, state, 60_000);
      expect(result.missed).toEqual([]);
      expect(result.conditions).toBeGreaterThan(0);
      expect(result.badSignatures).toBe(0);
      expect(result.parked).toBe(0);
      // Debounced: far fewer deliveries than the changes that caused them.
      expect(result.deliveries).toBeLessThan(60);
    } finally {
      await watch.close();
    }
  }, 240_000);
});
