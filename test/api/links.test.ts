// Links as Graph gives them: @odata.nextLink is relative over plain http (the v3 client puts any link that is not
// https under its baseUrl) and absolute over https; behind a front end the links, @odata.context and the operator
// API's URLs use the scheme and host it forwards (X-Forwarded-Proto / X-Forwarded-Host), never a header that is not
// a plain host. Two services run one after the other: plain http, then https.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type PageCollection, PageIterator } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ensureDevelopmentCertificate } from '../../src/host/certificates.js';
import { uniqueName } from '../support/index.js';
import {
  arr,
  graphClient,
  type HttpResult,
  ids,
  isObject,
  obj,
  type Service,
  startService,
  str,
  type Tenant,
} from './support.js';

/** Services started one after the other in this file share their storage prefix (support.ts explains why). */
const prefix = uniqueName('links');
const USERS = 12;

const page = z.looseObject({
  '@odata.context': z.string(),
  '@odata.nextLink': z.string().optional(),
  value: z.array(z.looseObject({ id: z.string() })),
});

/** The skiptoken of a link, wherever it points. */
function skipToken(link: string): string {
  return new URL(link, 'http://unused.invalid/').searchParams.get('$skiptoken') ?? '';
}

describe('over plain http', () => {
  let service: Service;
  let tenant: Tenant;
  let users: string[];

  beforeAll(async () => {
    service = await startService({}, { prefix });
    tenant = await service.newTenant();
    users = await tenant.importUsers(USERS);
  });
  afterAll(async () => {
    await service?.stop();
  });

  async function listUsers(headers: Record<string, string> = {}, query = '$top=5'): Promise<HttpResult> {
    const answer = await service.graphRaw('GET', `/users?${query}`, { token: tenant.token, headers });
    expect(answer.status, answer.text).toBe(200);
    return answer;
  }

  it('gives a nextLink relative to the service root', async () => {
    const first = page.parse((await listUsers()).json);
    expect(first['@odata.context']).toBe(`${service.url}/api/v1.0/$metadata#users`);
    expect(first['@odata.nextLink']).toMatch(/^users\?\$top=5&\$skiptoken=[A-Za-z0-9_-]+$/);
  });

  it('is paged through by the v3 client’s PageIterator, every request under its baseUrl', async () => {
    const requests: string[] = [];
    const client = graphClient(service, tenant.token, (url) => requests.push(url));
    const first = obj(await client.api('/users').top(5).get());
    const seen: string[] = [];
    const collection: PageCollection = { ...first, value: arr(first.value) };
    const iterator = new PageIterator(client, collection, (user: unknown) => {
      if (isObject(user)) seen.push(str(user.id));
      return true;
    });
    await iterator.iterate();
    expect(seen.sort()).toEqual([...users].sort());
    // 12 users at 5 a page: three requests, the later two with the skiptoken.
    expect(requests).toHaveLength(3);
    for (const url of requests) expect(url.startsWith(`${service.url}/api/v1.0/users?`), url).toBe(true);
    for (const url of requests.slice(1)) expect(new URL(url).searchParams.get('$skiptoken')).toBeTruthy();
  });

  it('links to the forwarded https origin behind a front end, and the link leads to the next page', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'contoso.example' };
    const first = page.parse((await listUsers(forwarded)).json);
    expect(first['@odata.context']).toBe('https://contoso.example/api/v1.0/$metadata#users');
    const next = first['@odata.nextLink'] ?? '';
    expect(next).toMatch(
      /^https:\/\/contoso\.example\/api\/v1\.0\/users\?\$top=5&\$skiptoken=[A-Za-z0-9_-]+$/,
    );

    // What the front end would pass on: the same path and query, to this host.
    const link = new URL(next);
    const second = await service.http('GET', `${link.pathname}${link.search}`, {
      token: tenant.token,
      headers: forwarded,
    });
    expect(second.status, second.text).toBe(200);
    const secondPage = page.parse(second.json);
    expect(secondPage.value).toHaveLength(5);
    expect(ids(secondPage).some((id) => ids(first).includes(id))).toBe(false);
    expect(secondPage['@odata.nextLink']).toMatch(/^https:\/\/contoso\.example\/api\/v1\.0\/users\?/);
  });

  it('keeps a forwarded port, and stays relative when the front end forwards plain http', async () => {
    const withPort = page.parse(
      (await listUsers({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'contoso.example:8443' })).json,
    );
    expect(withPort['@odata.nextLink']).toMatch(/^https:\/\/contoso\.example:8443\/api\/v1\.0\/users\?/);
    const plain = page.parse((await listUsers({ 'x-forwarded-host': 'contoso.example' })).json);
    expect(plain['@odata.context']).toBe('http://contoso.example/api/v1.0/$metadata#users');
    expect(plain['@odata.nextLink']).toMatch(/^users\?/);
  });

  it('keeps the caller’s filter and select in the link', async () => {
    const answer = await listUsers(
      { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'contoso.example' },
      "$filter=startswith(displayName,'User')&$select=id,displayName&$top=5",
    );
    const next = new URL(page.parse(answer.json)['@odata.nextLink'] ?? '');
    expect(next.searchParams.get('$filter')).toBe("startswith(displayName,'User')");
    expect(next.searchParams.get('$select')).toBe('id,displayName');
    expect(next.searchParams.get('$top')).toBe('5');
  });

  it('ignores a forwarded host or scheme that is not one, and builds links from the request’s own host', async () => {
    const own = service.url.replace(/^http:/, 'https:');
    for (const hostile of [
      'evil.com/x?y',
      'a b',
      'evil.com@attacker',
      'evil.com#frag',
      'evil.com:99999',
      '',
    ]) {
      const answer = page.parse(
        (await listUsers({ 'x-forwarded-proto': 'https', 'x-forwarded-host': hostile })).json,
      );
      expect(answer['@odata.context'], hostile).toBe(`${own}/api/v1.0/$metadata#users`);
      expect(answer['@odata.nextLink']?.startsWith(`${own}/api/v1.0/users?$top=5&$skiptoken=`), hostile).toBe(
        true,
      );
    }
    for (const scheme of ['javascript', 'ftp', 'https://evil.com']) {
      const answer = page.parse((await listUsers({ 'x-forwarded-proto': scheme })).json);
      expect(answer['@odata.context'], scheme).toBe(`${service.url}/api/v1.0/$metadata#users`);
      expect(answer['@odata.nextLink'], scheme).toMatch(/^users\?/);
    }
  });

  it('gives the operator API’s webhook and sign-in URLs the forwarded origin too', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'contoso.example' };
    const created = await service.manage(
      'POST',
      '/tenants',
      { displayName: 'Forwarded', countryLetterCode: 'US' },
      forwarded,
    );
    expect(created.status, created.text).toBe(201);
    const { id, webhook } = z
      .object({ id: z.string(), webhook: z.object({ notificationUrl: z.string() }) })
      .parse(created.json);
    expect(webhook.notificationUrl).toBe('https://contoso.example/api/webhooks/graph');

    const app = await service.manage(
      'POST',
      `/tenants/${id}/applications`,
      { displayName: 'Forwarded app', roles: [] },
      forwarded,
    );
    expect(app.status, app.text).toBe(201);
    expect(obj(app.json).signIn).toMatchObject({
      authorityHost: 'https://contoso.example/api/identity',
      tokenEndpoint: `https://contoso.example/api/identity/${id}/oauth2/v2.0/token`,
    });

    const discovery = await service.http('GET', `/api/identity/${id}/v2.0/.well-known/openid-configuration`, {
      headers: forwarded,
    });
    expect(discovery.status, discovery.text).toBe(200);
    expect(discovery.json).toMatchObject({
      token_endpoint: `https://contoso.example/api/identity/${id}/oauth2/v2.0/token`,
      jwks_uri: `https://contoso.example/api/identity/${id}/discovery/v2.0/keys`,
    });

    // Without the headers, the host's own address.
    const plain = await service.manage('GET', `/tenants/${id}`);
    expect(obj(obj(plain.json).webhook).notificationUrl).toBe(`${service.url}/api/webhooks/graph`);
  });
});

describe('over https', () => {
  let certDir: string;
  let service: Service;
  let tenant: Tenant;
  let users: string[];

  beforeAll(async () => {
    certDir = mkdtempSync(path.join(tmpdir(), 'links-certs-'));
    const { cert, key } = await ensureDevelopmentCertificate(certDir);
    service = await startService({}, { prefix, https: { cert, key } });
    tenant = await service.newTenant();
    users = await tenant.importUsers(USERS);
  });
  afterAll(async () => {
    await service?.stop();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  it('gives an absolute https nextLink on this host, which leads to the next page', async () => {
    expect(service.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const found: string[] = [];
    let link = `${service.url}/api/v1.0/users?$top=5`;
    for (let pages = 1; ; pages++) {
      // Followed as the Kiota page iterator does: the link as a URL, with the token.
      const target = new URL(link);
      expect(target.origin).toBe(service.url);
      const answer = await service.http('GET', `${target.pathname}${target.search}`, { token: tenant.token });
      expect(answer.status, answer.text).toBe(200);
      const current = page.parse(answer.json);
      expect(current['@odata.context']).toBe(`${service.url}/api/v1.0/$metadata#users`);
      found.push(...ids(current));
      const next = current['@odata.nextLink'];
      if (next === undefined) {
        expect(pages).toBe(3);
        break;
      }
      expect(next).toMatch(
        /^https:\/\/127\.0\.0\.1:\d+\/api\/v1\.0\/users\?\$top=5&\$skiptoken=[A-Za-z0-9_-]+$/,
      );
      expect(skipToken(next)).not.toBe('');
      link = next;
    }
    expect(found.sort()).toEqual([...users].sort());
  });
});
