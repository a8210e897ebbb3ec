// GET /api/health (functions/health.ts, compiled): 200 when table and queue storage answer, 503 otherwise.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { devConnectionString } from '../../src/host/settings.js';
import { freePort, startTestHost } from '../support/index.js';
import { fixtureDir } from './fixture.js';

const appDir = path.join(fixtureDir, 'variants', 'health');

describe('GET /api/health', () => {
  it('is 200 and healthy when table and queue storage answer', async () => {
    const host = await startTestHost({ appDir });
    const response = await fetch(`${host.url}/api/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'healthy',
      table: { ok: true, ms: expect.any(Number) },
      queue: { ok: true, ms: expect.any(Number) },
    });
  });

  it('is 503 with the same shape when storage does not answer', async () => {
    const dead = { blob: await freePort(), queue: await freePort(), table: await freePort() };
    const host = await startTestHost({ appDir, env: { AzureWebJobsStorage: devConnectionString(dead) } });
    const response = await fetch(`${host.url}/api/health`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: 'unhealthy',
      table: { ok: false, error: expect.any(String) },
      queue: { ok: false, error: expect.any(String) },
    });
  });
});
