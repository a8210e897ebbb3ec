// What the Azure Functions runtime refuses, the host refuses at start-up in the runtime's words
// (src/host/runtimeRules.ts; docs/host.md "What the host refuses, as the runtime does"). Each app below
// breaks one rule; every function in error is listed as the runtime's "The '{name}' function is in error:
// ..." line.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RegisteredFunction } from '../../src/host/coreApi.js';
import type { RpcBindingInfo } from '../../src/host/rpc.js';
import {
  FunctionsInError,
  functionErrors,
  messages,
  requestBodyLimitOf,
} from '../../src/host/runtimeRules.js';
import { repoRoot, startHostProcess, startTestHost } from '../support/index.js';

// The library as the fixtures resolve it (one module instance per process, see docs/host.md).
const library = createRequire(path.join(repoRoot, 'package.json')).resolve('@azure/functions');
const appsDir = mkdtempSync(path.join(tmpdir(), 'runtime-rules-'));
afterAll(() => rmSync(appsDir, { recursive: true, force: true }));

let appCount = 0;
/** Writes an app whose one entry file is `source`, with `app`, `input`, `output` and `trigger` in scope. */
function writeApp(source: string): string {
  const dir = path.join(appsDir, `app${++appCount}`);
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `rules-app-${appCount}`, main: 'index.js' }),
  );
  writeFileSync(
    path.join(dir, 'index.js'),
    `const { app, input, output, trigger } = require(${JSON.stringify(library)});\n` +
      `const handler = async () => ({ body: 'ok' });\n${source}\n`,
  );
  return dir;
}

/** Starts the app in this process, expects start-up to fail, and returns the runtime lines it lists. */
async function errorLines(source: string): Promise<string[]> {
  const failure = await startTestHost({ appDir: writeApp(source) }).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(failure instanceof FunctionsInError))
    throw new Error(`expected FunctionsInError, got ${String(failure)}`);
  const [header, ...lines] = failure.message.split('\n');
  expect(header).toBe(
    lines.length === 1
      ? '1 function is in error; the Azure Functions runtime would start without it:'
      : `${lines.length} functions are in error; the Azure Functions runtime would start without them:`,
  );
  return lines;
}

describe('reserved routes (admin, runtime)', () => {
  it('refuses routes starting with admin or runtime, the function name being the default route', async () => {
    expect(
      await errorLines(`
        app.http('ok', { handler });
        app.http('adminThing', { handler });
        app.http('slashes', { route: '/Admin/x/', handler });
        app.http('prefixOnly', { route: 'administrator', handler });
        app.http('webhooks', { route: 'runtime/webhooks/x', handler });
        app.http('runtimeInfo', { route: 'x', methods: ['GET'], handler });
      `),
    ).toEqual([
      "The 'adminThing' function is in error: The specified route conflicts with one or more built in routes.",
      "The 'prefixOnly' function is in error: The specified route conflicts with one or more built in routes.",
      "The 'slashes' function is in error: The specified route conflicts with one or more built in routes.",
      "The 'webhooks' function is in error: The specified route conflicts with one or more built in routes.",
    ]);
  });

  it('ignores routePrefix: admin/x is refused even under /api', async () => {
    const failure = startTestHost({
      appDir: writeApp(`app.http('reports', { route: 'admin/reports', handler });`),
      hostJson: { extensions: { http: { routePrefix: 'api' } } },
    });
    await expect(failure).rejects.toThrow(
      "The 'reports' function is in error: The specified route conflicts with one or more built in routes.",
    );
  });
});

describe("admin after the first segment (the Graph surface's v1.0/admin/cloudLicensing)", () => {
  // ScriptHost.ValidateHttpFunction tests the route (routePrefix not included) trimmed of '/' with StartsWith("admin"):
  // a route beginning with v1.0 passes, wherever admin comes after it.
  it('accepts and serves v1.0/admin/..., and still refuses admin/... and /admin/... under the same prefix', async () => {
    const host = await startTestHost({
      appDir: writeApp(`
        app.http('allotments', {
          route: 'v1.0/admin/cloudLicensing/allotments/{id}/waitingMembers',
          methods: ['GET'],
          handler: async (request) => ({ jsonBody: { id: request.params.id } }),
        });
      `),
      hostJson: { extensions: { http: { routePrefix: 'api' } } },
    });
    const response = await fetch(`${host.url}/api/v1.0/admin/cloudLicensing/allotments/a_b/waitingMembers`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: 'a_b' });
    expect(
      await errorLines(`
        app.http('bare', { route: 'admin/cloudLicensing/allotments', methods: ['GET'], handler });
        app.http('slashed', { route: '/admin/cloudLicensing/allotments/{id}', methods: ['GET'], handler });
        app.http('graph', { route: 'v1.0/admin/cloudLicensing/allotments', methods: ['GET'], handler });
      `),
    ).toEqual([
      "The 'bare' function is in error: The specified route conflicts with one or more built in routes.",
      "The 'slashed' function is in error: The specified route conflicts with one or more built in routes.",
    ]);
  });
});

describe('route conflicts', () => {
  it('refuses a route already taken (case and outer slashes ignored) with an overlapping method', async () => {
    // Registered before alpha, but checked after it: the runtime goes through functions by name.
    expect(
      await errorLines(`
        app.http('beta', { route: '/ITEMS/', methods: ['POST'], handler });
        app.http('alpha', { route: 'items', methods: ['GET', 'POST'], handler });
        app.http('gamma', { route: 'items', methods: [], handler });
        app.http('delta', { route: 'items', methods: ['PUT'], handler });
        app.http('Items', { methods: ['PUT', 'DELETE'], handler });
      `),
    ).toEqual([
      "The 'beta' function is in error: The route specified conflicts with the route defined by function 'alpha'.",
      "The 'gamma' function is in error: The route specified conflicts with the route defined by function 'alpha'.",
      "The 'Items' function is in error: The route specified conflicts with the route defined by function 'delta'.",
    ]);
  });

  it('refuses a second HTTP function of the same name (only reachable below the loader, which refuses it first)', () => {
    const http = (route: string): RpcBindingInfo => ({ type: 'httpTrigger', direction: 'in', route });
    const fn = (name: string, route: string): RegisteredFunction => ({
      metadata: { name, bindings: { req: http(route) } },
      callback: () => undefined,
    });
    expect(functionErrors([fn('same', 'a'), fn('same', 'b'), fn('Same', 'c')])).toEqual([
      { functionName: 'same', message: messages.duplicateHttpName('same') },
    ]);
    expect(messages.duplicateHttpName('same')).toBe(
      "The function or proxy name 'same' must be unique within the function app.",
    );
  });
});

describe('function names', () => {
  it("refuses names outside ^[a-z][a-z0-9_-]{0,127}$ and 'host'", async () => {
    expect(
      await errorLines(`
        app.http('Host', { route: 'h', handler });
        app.http('bad.name', { route: 'b', handler });
        app.http('9lives', { route: 'n', handler });
        app.http('${'a'.repeat(129)}', { route: 'long', handler });
        app.http('${'A'.repeat(128)}', { route: 'longest', handler });
        app.http('ok_name-2', { handler });
      `),
    ).toEqual([
      "The '9lives' function is in error: '9lives' is not a valid function name.",
      `The '${'a'.repeat(129)}' function is in error: '${'a'.repeat(129)}' is not a valid function name.`,
      "The 'bad.name' function is in error: 'bad.name' is not a valid function name.",
      "The 'Host' function is in error: 'Host' is not a valid function name.",
    ]);
  });
});

describe('bindings', () => {
  it('refuses a binding name outside ^([a-zA-Z][a-zA-Z0-9]{0,127}|$return)$', async () => {
    expect(
      await errorLines(`
        app.http('badBinding', {
          extraOutputs: [output.generic({ type: 'queue', queueName: 'q', name: 'bad_name' })],
          handler,
        });
      `),
    ).toEqual([
      "The 'badBinding' function is in error: The binding name bad_name is invalid. Please assign a valid name to the binding.",
    ]);
  });

  it('refuses two bindings whose names differ only in case', async () => {
    expect(
      await errorLines(`
        app.http('twice', {
          extraOutputs: [
            output.generic({ type: 'queue', queueName: 'a', name: 'out' }),
            output.generic({ type: 'queue', queueName: 'b', name: 'OUT' }),
          ],
          handler,
        });
      `),
    ).toEqual([
      "The 'twice' function is in error: Multiple bindings with name 'OUT' discovered. Binding names must be unique.",
    ]);
  });

  it('refuses a $return binding that is not an output', async () => {
    expect(
      await errorLines(`
        app.http('ok', { handler });
        require('@azure/functions-core').registerFunction(
          { name: 'returnIn', bindings: { req: { type: 'httpTrigger', direction: 'in' }, $return: { type: 'http', direction: 'in' } } },
          handler,
        );
      `),
    ).toEqual(["The 'returnIn' function is in error: $return bindings must specify a direction of 'out'."]);
  });

  it('refuses more than one trigger', async () => {
    expect(
      await errorLines(`
        app.generic('twoTriggers', {
          trigger: trigger.generic({ type: 'timerTrigger', schedule: '0 0 0 1 1 *' }),
          extraInputs: [input.generic({ type: 'queueTrigger', queueName: 'q', name: 'second' })],
          handler,
        });
      `),
    ).toEqual([
      "The 'twoTriggers' function is in error: Multiple trigger bindings defined. A function can only have a single trigger binding.",
    ]);
  });

  it('refuses a function without a trigger, or without any binding', async () => {
    // The library always adds a trigger; the worker's core API does not.
    expect(
      await errorLines(`
        app.http('ok', { handler });
        const core = require('@azure/functions-core');
        core.registerFunction(
          { name: 'noTrigger', bindings: { out1: { type: 'queue', direction: 'out', queueName: 'q' } } },
          handler,
        );
        core.registerFunction({ name: 'noBindings', bindings: {} }, handler);
      `),
    ).toEqual([
      "The 'noBindings' function is in error: At least one binding must be declared.",
      "The 'noTrigger' function is in error: No trigger binding specified. A function must have a trigger input binding.",
    ]);
  });
});

describe('apps the runtime accepts', () => {
  it('start: admin or runtime later in a route, routes equal only in meaning, disjoint methods', async () => {
    const host = await startTestHost({
      appDir: writeApp(`
        const named = (name) => async () => ({ jsonBody: { name } });
        app.http('v2Admin', { route: 'v2/admin', methods: ['GET'], handler: named('v2Admin') });
        app.http('apiAdmin', { route: 'api/admin', methods: ['GET'], handler: named('apiAdmin') });
        app.http('manage', { route: 'manage/x', methods: ['GET'], handler: named('manage') });
        app.http('byId', { route: 'p/{id}', methods: ['GET'], handler: named('byId') });
        app.http('byKey', { route: 'p/{key}', methods: ['GET'], handler: named('byKey') });
        app.http('read', { route: 'q', methods: ['GET'], handler: named('read') });
        app.http('write', { route: 'Q', methods: ['POST'], handler: named('write') });
        // The runtime compares methods case-sensitively at start-up, so these two do not conflict there.
        app.http('upper', { route: 'm', methods: ['GET'], handler: named('upper') });
        app.http('lower', { route: 'm', methods: ['get'], handler: named('lower') });
      `),
    });
    const name = async (route: string, method = 'GET'): Promise<unknown> => {
      const response = await fetch(`${host.url}/api/${route}`, { method });
      expect(response.status).toBe(200);
      return ((await response.json()) as { name: unknown }).name;
    };
    expect(await name('v2/admin')).toBe('v2Admin');
    expect(await name('api/admin')).toBe('apiAdmin');
    expect(await name('manage/x')).toBe('manage');
    expect(await name('p/7')).toBe('byId');
    expect(await name('q')).toBe('read');
    expect(await name('q', 'POST')).toBe('write');
    expect(host.functions.map((f) => f.name)).toContain('lower');
  });
});

describe('npm start', () => {
  it('prints every function in error in the runtime format and exits', async () => {
    const appDir = writeApp(`
      app.http('adminThing', { handler });
      app.http('zulu', { route: 'same', handler });
      app.http('yankee', { route: 'same', handler });
    `);
    await expect(startHostProcess({ appDir })).rejects.toThrow(
      'Startup failed: 2 functions are in error; the Azure Functions runtime would start without them:\n' +
        "The 'adminThing' function is in error: The specified route conflicts with one or more built in routes.\n" +
        "The 'zulu' function is in error: The route specified conflicts with the route defined by function 'yankee'.",
    );
  });
});

describe('request body limit', () => {
  const upload = `app.http('upload', { methods: ['POST'], handler: async (req) => ({ jsonBody: { bytes: (await req.text()).length } }) });`;

  /** Status of a POST that only declares its Content-Length (the host refuses before reading). */
  const declared = (url: string, length: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(`${url}/api/upload`, {
        method: 'POST',
        headers: { 'content-length': String(length) },
      });
      req.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });

  it('reads FUNCTIONS_REQUEST_BODY_SIZE_LIMIT as the runtime does (long.TryParse)', () => {
    expect(requestBodyLimitOf(undefined)).toBe(104_857_600);
    expect(requestBodyLimitOf(' 2048 ')).toBe(2048);
    expect(requestBodyLimitOf('+5')).toBe(5);
    expect(requestBodyLimitOf('0')).toBe(0);
    for (const ignored of ['', 'abc', '1e3', '0x10', '1.5', '1,000', '10MB', '9223372036854775808']) {
      expect(requestBodyLimitOf(ignored)).toBe(104_857_600);
    }
    expect(() => requestBodyLimitOf('-1')).toThrow('FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is negative (-1)');
  });

  it('uses a numeric setting and answers 413 over it', async () => {
    const host = await startTestHost({
      appDir: writeApp(upload),
      env: { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '1024' },
    });
    expect((await fetch(`${host.url}/api/upload`, { method: 'POST', body: 'a'.repeat(1024) })).status).toBe(
      200,
    );
    expect((await fetch(`${host.url}/api/upload`, { method: 'POST', body: 'a'.repeat(1025) })).status).toBe(
      413,
    );
  });

  it('ignores a non-numeric setting and keeps 100 MB', async () => {
    // 1e3 would be 1000 bytes to JavaScript's Number(); long.TryParse refuses it, so the default stays.
    const host = await startTestHost({
      appDir: writeApp(upload),
      env: { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '1e3' },
    });
    const response = await fetch(`${host.url}/api/upload`, { method: 'POST', body: 'a'.repeat(4096) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ bytes: 4096 });
    expect(await declared(host.url, 104_857_601)).toBe(413);
  });

  it('fails start-up on a negative setting, which would fail every request on the runtime', async () => {
    await expect(
      startTestHost({ appDir: writeApp(upload), env: { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '-1' } }),
    ).rejects.toThrow('FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is negative (-1)');
  });
});
