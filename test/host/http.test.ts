// HTTP triggers through the embedded host: routing, conversion of requests and responses, errors, logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../support/index.js';
import { fixtureDir, fixtureEnv } from './fixture.js';

let host: TestHost;
let api: string;

beforeAll(async () => {
  host = await startTestHost({ appDir: fixtureDir, env: fixtureEnv(), logInvocations: true });
  api = `${host.url}/api`;
});

afterAll(async () => {
  await host?.stop();
});

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

describe('routing', () => {
  it('serves routes under the /api prefix, case-insensitively, with the function name as default route', async () => {
    expect(await getJson(`${api}/defaultRoute`)).toEqual({ status: 200, body: { fn: 'defaultRoute' } });
    expect(await getJson(`${host.url}/API/DEFAULTROUTE`)).toEqual({
      status: 200,
      body: { fn: 'defaultRoute' },
    });
    expect((await fetch(`${host.url}/defaultRoute`)).status).toBe(404);
    expect((await fetch(`${api}/no-such-route`)).status).toBe(404);
  });

  it('binds {param} values, percent-decoded', async () => {
    expect(await getJson(`${api}/users/alice%20smith`)).toEqual({
      status: 200,
      body: { fn: 'userById', id: 'alice smith' },
    });
  });

  it('prefers a literal segment over a parameter, whatever the registration order', async () => {
    expect(await getJson(`${api}/users/delta`)).toEqual({ status: 200, body: { fn: 'userDelta' } });
    expect(await getJson(`${api}/users/DELTA`)).toEqual({ status: 200, body: { fn: 'userDelta' } });
  });

  it('applies :int and :guid constraints, falling through to the next route or 404', async () => {
    expect(await getJson(`${api}/items/42`)).toEqual({ status: 200, body: { fn: 'itemInt', id: '42' } });
    const guid = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
    expect(await getJson(`${api}/items/${guid}`)).toEqual({
      status: 200,
      body: { fn: 'itemGuid', id: guid },
    });
    expect((await fetch(`${api}/items/not-a-number`)).status).toBe(404);
  });

  it('supports optional parameters and catch-all routes', async () => {
    expect(await getJson(`${api}/opt`)).toEqual({ status: 200, body: { name: null } });
    expect(await getJson(`${api}/opt/bob`)).toEqual({ status: 200, body: { name: 'bob' } });
    expect(await getJson(`${api}/files/a/b/c.txt`)).toEqual({ status: 200, body: { path: 'a/b/c.txt' } });
    expect(await getJson(`${api}/files`)).toEqual({ status: 200, body: { path: null } });
  });

  it('answers a method the function does not accept with 404, and routes by method', async () => {
    const wrong = await fetch(`${api}/users/alice`, { method: 'POST', body: 'x' });
    expect(wrong.status).toBe(404);
    expect(await wrong.text()).toBe('');
    expect(await getJson(`${api}/things/7`)).toEqual({ status: 200, body: { fn: 'getThing' } });
    const deleted = await fetch(`${api}/things/7`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get('x-deleted')).toBe('7');
  });
});

describe('requests and responses', () => {
  it('passes method, url, query, headers and the raw body', async () => {
    const { status, body } = await getJson(`${api}/echo?a=1&tag=x&tag=y`, {
      method: 'PUT',
      headers: { 'x-test-header': 'hello', 'content-type': 'text/plain' },
      body: 'raw ✓ body',
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      method: 'PUT',
      url: `${api}/echo?a=1&tag=x&tag=y`,
      query: { a: '1', tag: 'y' },
      tags: ['x', 'y'],
      header: 'hello',
      contentType: 'text/plain',
      body: 'raw ✓ body',
    });
  });

  it('returns status, body, headers and cookies set by the function', async () => {
    const response = await fetch(`${api}/custom/418`);
    expect(response.status).toBe(418);
    expect(response.headers.get('x-custom')).toBe('yes');
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toBe('plain text body');
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(/^session=abc; path=\/; httponly; samesite=lax$/);
    expect(cookies[1]).toMatch(/^theme=dark; max-age=60$/);
  });

  it('serialises jsonBody with an application/json content type', async () => {
    const response = await fetch(`${api}/defaultRoute`);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('answers 200 with an empty body when the function returns nothing', async () => {
    const response = await fetch(`${api}/noResponse`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('answers an unhandled exception with an empty 500 and logs it as Failed', async () => {
    const response = await fetch(`${api}/boom`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('');
    const log = host.logText();
    expect(log).toMatch(
      /Executing 'Functions\.boom' \(Reason='This function was programmatically called via the host APIs\.', Id=[0-9a-f-]{36}\)/,
    );
    expect(log).toContain('about to fail');
    expect(log).toMatch(/Executed 'Functions\.boom' \(Failed, Id=[0-9a-f-]{36}, Duration=\d+ms\)/);
    expect(log).toContain('boom from fixture');
  });

  it("logs Executing/Executed around the function's own log lines", async () => {
    await fetch(`${api}/logs`);
    const records = host.logs.filter((r) => r.functionName === 'logs');
    const messages = records.map((r) => r.message);
    expect(messages[0]).toMatch(/^Executing 'Functions\.logs'/);
    expect(messages.slice(1, 4)).toEqual([
      'info line from fixture',
      'warn line from fixture',
      'error line from fixture',
    ]);
    expect(records.slice(1, 4).map((r) => r.level)).toEqual(['information', 'warning', 'error']);
    expect(messages[4]).toMatch(
      /^Executed 'Functions\.logs' \(Succeeded, Id=[0-9a-f-]{36}, Duration=\d+ms\)$/,
    );
  });

  it('runs preInvocation and postInvocation hooks around the handler, in order', async () => {
    const { body } = await getJson(`${api}/hooked`);
    expect(body).toEqual({
      events: ['appStart', 'preInvocation', 'wrappedHandler', 'handler', 'postInvocation:shared'],
      changedByPostHook: true,
    });
  });

  it('streams a large NDJSON body in and hands it to the function intact', async () => {
    const line = `${JSON.stringify({ id: 'x'.repeat(20), value: 12345 })}\n`;
    const count = 100_000;
    const payload = line.repeat(count);
    const { status, body } = await getJson(`${api}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: payload,
    });
    expect(status).toBe(200);
    expect(body).toEqual({ bytes: Buffer.byteLength(payload), lines: count });
  });

  it('keeps connections alive between requests', async () => {
    const response = await fetch(`${api}/defaultRoute`);
    await response.text();
    expect(response.headers.get('connection')).not.toBe('close');
  });
});

describe('request body limit', () => {
  it('refuses a body over the limit with 413', async () => {
    const small = await startTestHost({ appDir: fixtureDir, env: fixtureEnv(), maxRequestBodyBytes: 1024 });
    const ok = await fetch(`${small.url}/api/upload`, { method: 'POST', body: 'a\n'.repeat(100) });
    expect(ok.status).toBe(200);
    const tooBig = await fetch(`${small.url}/api/upload`, { method: 'POST', body: 'a'.repeat(4096) });
    expect(tooBig.status).toBe(413);
  });
});
