// Loading apps like the worker: package.json "main" glob, duplicate names, registration after startup, auth.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostProcess, startTestHost } from '../support/index.js';
import { fixtureDir, fixtureEnv } from './fixture.js';

const variant = (name: string): string => path.join(fixtureDir, 'variants', name);

describe('app loading', () => {
  it('rejects two functions with the same name (case-insensitive)', async () => {
    await expect(startTestHost({ appDir: variant('duplicate') })).rejects.toThrow(
      'A function with name "Same" has already been registered.',
    );
  });

  it('loads exactly the files of the main glob, in order, and refuses registration after startup', async () => {
    const host = await startTestHost({ appDir: variant('late') });
    const response = await fetch(`${host.url}/api/registerLate`);
    expect(await response.json()).toEqual({
      registered: false,
      error: 'A function can only be registered during app startup.',
      order: ['first', 'second'],
    });
  });

  it('fails when the main glob matches no file', async () => {
    await expect(startTestHost({ appDir: variant('empty') })).rejects.toThrow(
      'Found zero files matching the supplied pattern "dist/functions/*.js"',
    );
  });
});

describe('authLevel', () => {
  const keys = { FUNCTIONS_MASTER_KEY: 'master-key-1', FUNCTIONS_FUNCTION_KEY: 'function-key-1' };

  it('is not enforced by default, like func start', async () => {
    const host = await startTestHost({ appDir: fixtureDir, env: { ...fixtureEnv(), ...keys } });
    expect((await fetch(`${host.url}/api/fnAuth`)).status).toBe(200);
    expect((await fetch(`${host.url}/api/masterAuth`)).status).toBe(200);
  });

  it('with auth enabled, needs a key in x-functions-key or ?code=, else 401 with an empty body', async () => {
    const host = await startTestHost({
      appDir: fixtureDir,
      env: { ...fixtureEnv(), ...keys },
      enableAuth: true,
    });
    const api = `${host.url}/api`;
    const missing = await fetch(`${api}/fnAuth`);
    expect(missing.status).toBe(401);
    expect(await missing.text()).toBe('');
    expect((await fetch(`${api}/fnAuth`, { headers: { 'x-functions-key': 'wrong' } })).status).toBe(401);
    expect((await fetch(`${api}/fnAuth`, { headers: { 'x-functions-key': 'function-key-1' } })).status).toBe(
      200,
    );
    expect((await fetch(`${api}/fnAuth?code=function-key-1`)).status).toBe(200);
    expect((await fetch(`${api}/fnAuth?code=master-key-1`)).status).toBe(200);
    // admin needs the master key
    expect((await fetch(`${api}/masterAuth?code=function-key-1`)).status).toBe(401);
    expect(
      (await fetch(`${api}/masterAuth`, { headers: { 'x-functions-key': 'master-key-1' } })).status,
    ).toBe(200);
    // anonymous functions stay open
    expect((await fetch(`${api}/defaultRoute`)).status).toBe(200);
  });
});

describe('host options', () => {
  // In a child process: the library starts its streaming proxy and keeps that state for the process.
  it('refuses app.setup({ enableHttpStream: true }) with a clear message', async () => {
    await expect(startHostProcess({ appDir: variant('stream') })).rejects.toThrow(
      'app.setup({ enableHttpStream: true }) is not supported by the local host',
    );
  });

  it('drops Executing/Executed lines of successful invocations when logInvocations is off', async () => {
    const host = await startTestHost({ appDir: fixtureDir, env: fixtureEnv(), logInvocations: false });
    await fetch(`${host.url}/api/logs`);
    await fetch(`${host.url}/api/boom`);
    const log = host.logText();
    expect(log).toContain('info line from fixture');
    expect(log).not.toContain("Executing 'Functions.logs'");
    expect(log).not.toContain("Executed 'Functions.logs'");
    expect(log).toMatch(/Executed 'Functions\.boom' \(Failed/);
  });

  it('answers CORS preflights and tags responses for allowed origins', async () => {
    const host = await startTestHost({
      appDir: fixtureDir,
      env: fixtureEnv(),
      cors: ['http://allowed.test'],
    });
    const preflight = await fetch(`${host.url}/api/echo`, {
      method: 'OPTIONS',
      headers: { origin: 'http://allowed.test', 'access-control-request-method': 'PUT' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://allowed.test');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('PUT');
    const allowed = await fetch(`${host.url}/api/defaultRoute`, {
      headers: { origin: 'http://allowed.test' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://allowed.test');
    const other = await fetch(`${host.url}/api/defaultRoute`, { headers: { origin: 'http://other.test' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
