// The OpenAPI document stays in step with what is actually served: every HTTP function the app registers is in
// it with the same path and methods, and it describes nothing that is not served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceSchema, groupSchema, userSchema } from '../../src/contract/graph.js';
import type { RunningHost } from '../../src/host/host.js';
import { startHost } from '../../src/host/host.js';
import { productEnv } from '../pipeline/support.js';
import { repoRoot, uniqueName } from '../support/index.js';

let host: RunningHost;
beforeAll(async () => {
  host = await startHost({
    appDir: repoRoot,
    port: 0,
    env: productEnv(uniqueName('o')),
    createQueues: true,
    logInvocations: false,
    logSink: () => {},
  });
});
afterAll(async () => {
  await host?.stop();
});

describe('GET /api/openapi.json', () => {
  it('lists exactly the HTTP routes and methods the host serves', async () => {
    const response = await fetch(`${host.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    const doc: unknown = await response.json();
    if (
      typeof doc !== 'object' ||
      doc === null ||
      !('paths' in doc) ||
      typeof doc.paths !== 'object' ||
      doc.paths === null
    ) {
      throw new Error('no paths in the document');
    }
    expect('openapi' in doc && doc.openapi).toBe('3.0.3');
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(typeof item === 'object' && item !== null ? item : {}))
        if (method !== 'parameters') documented.add(`${method.toUpperCase()} /api${path}`);
    }
    const served = new Set<string>();
    for (const fn of host.functions) {
      if (fn.trigger !== 'http' || !fn.url) continue;
      const path = new URL(fn.url.replace(/[{}]/g, (c) => (c === '{' ? '%7B' : '%7D'))).pathname
        .replace(/%7B/g, '{')
        .replace(/%7D/g, '}')
        .replace(/\{\*?(\w+)(:[^}]*)?\??\}/g, '{$1}'); // {*rest}: OpenAPI has no catch-all
      for (const method of fn.methods ?? []) served.add(`${method.toUpperCase()} ${path}`);
    }
    expect([...served].filter((op) => !documented.has(op)).sort()).toEqual([]);
    expect([...documented].filter((op) => !served.has(op)).sort()).toEqual([]);
    expect(served.size).toBeGreaterThan(30);
  });
});

describe('the OpenAPI request bodies', () => {
  it('name a schema the document defines, for every operation that takes a JSON body, with the permissions', async () => {
    const response = await fetch(`${host.url}/api/openapi.json`);
    const doc = (await response.json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown; description?: string }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const bodyRef = (path: string, method: string): string => {
      const body = doc.paths[path]?.[method]?.requestBody;
      const ref = JSON.stringify(body ?? {}).match(/#\/components\/schemas\/(\w+)/)?.[1];
      if (!ref) throw new Error(`${method.toUpperCase()} ${path} documents no request body`);
      return ref;
    };
    for (const [path, method] of [
      ['/v1.0/users', 'post'],
      ['/v1.0/users/{id}', 'patch'],
      ['/v1.0/users/{id}/assignLicense', 'post'],
      ['/v1.0/groups', 'post'],
      ['/v1.0/groups/{id}/assignLicense', 'post'],
      ['/v1.0/groups/{id}/members/$ref', 'post'],
      ['/v1.0/groups/{id}/moveLicense', 'post'],
      ['/v1.0/devices', 'post'],
      ['/v1.0/$batch', 'post'],
      ['/webhooks/graph', 'post'],
    ] as const) {
      expect(doc.components.schemas[bodyRef(path, method)], `${method} ${path}`).toBeDefined();
    }
    // Generated from the schema the handler parses with: the fields a user patch may carry, and nothing else.
    expect(Object.keys(doc.components.schemas.UserPatch?.properties ?? {})).toContain('usageLocation');
    expect(Object.keys(doc.components.schemas.UserPatch?.properties ?? {})).not.toContain('passwordProfile');
    expect(doc.paths['/v1.0/groups/{id}/assignLicense']?.post?.description).toContain(
      'LicenseAssignment.ReadWrite.All',
    );
  });
});

describe('the OpenAPI responses', () => {
  it('are generated from the Graph wire contract, and every one they name is defined', async () => {
    const response = await fetch(`${host.url}/api/openapi.json`);
    const doc = (await response.json()) as {
      paths: Record<string, Record<string, { responses?: unknown }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const named = new Set<string>();
    for (const item of Object.values(doc.paths)) {
      for (const operation of Object.values(item)) {
        for (const match of JSON.stringify(operation.responses ?? {}).matchAll(
          /#\/components\/schemas\/(\w+)/g,
        ))
          if (match[1]) named.add(match[1]);
      }
    }
    for (const schema of Object.values(doc.components.schemas)) {
      for (const match of JSON.stringify(schema).matchAll(/#\/components\/schemas\/(\w+)/g))
        if (match[1]) named.add(match[1]);
    }
    expect([...named].filter((name) => !doc.components.schemas[name]).sort()).toEqual([]);
    expect(named).toContain('UserCollection');
    // Property for property what the contract says a user, group and device are.
    for (const [name, schema] of [
      ['User', userSchema],
      ['Group', groupSchema],
      ['Device', deviceSchema],
    ] as const) {
      expect(Object.keys(doc.components.schemas[name]?.properties ?? {}), name).toEqual(
        Object.keys(schema.shape),
      );
    }
    expect(doc.components.schemas.User?.properties?.licenseAssignmentStates).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/LicenseAssignmentState' },
    });
  });
});
