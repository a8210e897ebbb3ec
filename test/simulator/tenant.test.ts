// generate + churn (with duplicated and reordered notifications) + verify against an embedded service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, loadCatalogData } from '../../src/catalog/load.js';
import { churn } from '../../src/simulator/churn.js';
import { planTenant, provisionTenant } from '../../src/simulator/generate.js';
import { silentProgress } from '../../src/simulator/progress.js';
import { buildReport } from '../../src/simulator/report.js';
import { OperatorClient, type ServiceEndpoint, startEmbeddedService } from '../../src/simulator/service.js';
import { verify } from '../../src/simulator/verify.js';

const catalog = loadCatalog();
let service: ServiceEndpoint;
beforeAll(async () => {
  service = await startEmbeddedService();
}, 60_000);
afterAll(async () => {
  await service?.stop();
});

describe('the tenant generator', () => {
  it('is deterministic for a seed and realistic', () => {
    const options = { users: 500, groups: 12, devices: 20, seed: 42 };
    const first = planTenant(catalog, options, '2026-01-01T00:00:00.000Z');
    const second = planTenant(catalog, options, '2026-01-01T00:00:00.000Z');
    expect(JSON.stringify(second.lines)).toBe(JSON.stringify(first.lines));
    const other = planTenant(catalog, { ...options, seed: 43 }, '2026-01-01T00:00:00.000Z');
    expect(JSON.stringify(other.lines)).not.toBe(JSON.stringify(first.lines));

    const users = Object.values(first.state.users);
    expect(users.filter((u) => u.usageLocation === null).length).toBeGreaterThan(0);
    expect(new Set(users.map((u) => u.userPrincipalName)).size).toBe(500);
    const kinds = Object.values(first.state.groups).map((g) => g.kind);
    expect(kinds).toEqual(expect.arrayContaining(['department', 'project', 'devices']));
    // Subscriptions are bought a little short of demand.
    expect(Object.values(first.state.units).every((u) => u.enabled > 0)).toBe(true);
    expect(first.nestedLines.length).toBeGreaterThan(0);
  });
});

describe('generate, churn and verify', () => {
  it('ends a 2,000-user tenant with dynamic groups with zero differences after churn with duplicates and reordering', async () => {
    const operator = new OperatorClient(service.baseUrl, service.adminKey);
    const { state } = await provisionTenant(
      operator,
      catalog,
      { users: 2000, groups: 20, devices: 40, seed: 7 },
      silentProgress,
    );
    const summary = await churn(
      operator,
      catalog,
      state,
      // No wait: the churn overlaps the initial group processing, the harsher interleaving.
      { events: 600, seed: 11, duplicates: 0.05, reorder: 0.05, waitForIdle: false },
      silentProgress,
    );
    expect(summary.notificationsSent).toBeGreaterThan(300);
    // Users moved between dynamic groups by their attributes, and rules were edited under them.
    for (const kind of ['department', 'accountEnabled', 'usageLocation', 'ruleEdit'])
      expect(summary.counts[kind] ?? 0, kind).toBeGreaterThan(0);
    if (process.env.SIMULATOR_LOG) console.log(JSON.stringify(summary.counts));
    // Fails with what kept the service busy before the test's own timeout would hide it.
    const result = await verify(operator, loadCatalogData(), state, silentProgress, {
      idleTimeoutMs: 200_000,
    });
    expect(result.differences.slice(0, 10)).toEqual([]);
    expect(result.principalsChecked).toBeGreaterThan(1900);

    const report = await buildReport(operator, catalog, state);
    expect(report.licenses.length).toBeGreaterThan(3);
    for (const row of report.licenses) expect(row.assigned).toBeLessThanOrEqual(row.total);
  }, 300_000);
});
