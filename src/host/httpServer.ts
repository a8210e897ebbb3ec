// The HTTP front end: route prefix + templates, method constraint (a wrong method is a 404, as on the
// runtime), optional key checks, a capped request body, and the library's response conversion.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RegisteredFunction } from './coreApi.js';
import type { InvocationOutcome, Invoker } from './invoker.js';
import { describeError, type HostLogger } from './log.js';
import { RouteTable } from './routing.js';
import { isRecord, type RpcHttpData } from './rpc.js';

export type AuthLevel = 'anonymous' | 'function' | 'admin';

export interface HttpFunction {
  fn: RegisteredFunction;
  triggerBindingName: string;
  route: string;
  methods: string[];
  authLevel: AuthLevel;
  /** Name of the binding whose value is the HTTP response ('$return' normally). */
  responseBindingName: string | undefined;
  /** Writes the function's other output bindings (queue messages) before the response is sent. */
  afterInvoke?: (outcome: InvocationOutcome) => Promise<void>;
}

export interface HttpServerOptions {
  port: number;
  hostname: string;
  routePrefix: string;
  auth: { enabled: boolean; masterKey: string | undefined; functionKey: string | undefined };
  maxRequestBodyBytes: number;
  /** Allowed CORS origins ('*' for any); empty disables CORS handling. */
  cors: string[];
  /** Serve HTTPS with this certificate and key (PEM), like `func start --useHttps`; plain HTTP without. */
  tls?: { cert: string; key: string } | undefined;
}

const emptyBody = Buffer.alloc(0);

export class FunctionsHttpServer {
  private readonly routes = new RouteTable<HttpFunction>();
  private readonly server: Server;
  private readonly prefix: string;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    functions: HttpFunction[],
    private readonly invoker: Invoker,
    private readonly logger: HostLogger,
    private readonly options: HttpServerOptions,
  ) {
    for (const f of functions) this.routes.add(f.route, f.methods, f);
    this.prefix = options.routePrefix.toLowerCase();
    const serve = (req: IncomingMessage, res: ServerResponse): void => {
      this.inFlight++;
      this.handle(req, res)
        .catch((error: unknown) => {
          this.logger.error(
            `Unhandled error while serving ${req.method} ${req.url}: ${describeError(error)}`,
          );
          if (!res.headersSent) writeEmpty(res, 500);
          else res.destroy();
        })
        .finally(() => {
          this.inFlight--;
          if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
        });
    };
    this.server = options.tls
      ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, serve)
      : createServer(serve);
    this.server.keepAliveTimeout = 30_000;
  }

  /** Full URL of a route template, e.g. `http://127.0.0.1:7071/api/users/{id}`. */
  urlOf(route: string, baseUrl: string): string {
    const cleaned = route.replace(/^\/+/, '');
    return `${baseUrl}/${[this.options.routePrefix, cleaned].filter((s) => s !== '').join('/')}`;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.hostname, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('HTTP server has no TCP address.');
    return (address satisfies AddressInfo).port;
  }

  /** Stops accepting connections, lets running requests finish (up to `timeoutMs`), then closes everything. */
  async close(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const method = req.method ?? 'GET';
    const queryIndex = rawUrl.indexOf('?');
    const pathname = queryIndex === -1 ? rawUrl : rawUrl.slice(0, queryIndex);

    if (this.options.cors.length > 0 && this.applyCors(req, res, method)) return;

    const routePath = this.stripPrefix(pathname);
    const match = routePath === undefined ? undefined : this.routes.match(routePath, method);
    if (!match) {
      writeEmpty(res, 404);
      req.resume();
      return;
    }
    const target = match.route.target;
    if (!this.authorized(target.authLevel, req, queryIndex === -1 ? '' : rawUrl.slice(queryIndex + 1))) {
      writeEmpty(res, 401);
      req.resume();
      return;
    }

    const body = await readBody(req, this.options.maxRequestBodyBytes);
    if (body === 'too-large') {
      res.writeHead(413, { 'content-length': '0', connection: 'close' });
      res.end();
      return;
    }

    const http: RpcHttpData = {
      method,
      url: `${this.options.tls ? 'https' : 'http'}://${req.headers.host ?? `127.0.0.1:${this.options.port}`}${rawUrl}`,
      headers: flattenHeaders(req),
      params: match.params,
    };
    if (body.length > 0) http.body = { bytes: body };

    let outcome: InvocationOutcome;
    try {
      outcome = await this.invoker.invoke(
        target.fn,
        {
          inputData: [{ name: target.triggerBindingName, data: { http } }],
          triggerMetadata: {},
          reason: 'This function was programmatically called via the host APIs.',
        },
        target.afterInvoke,
      );
    } catch {
      // Logged by the invoker; the runtime answers an unhandled exception with an empty 500.
      writeEmpty(res, 500);
      return;
    }
    writeRpcResponse(res, findHttpResponse(outcome, target.responseBindingName));
  }

  private stripPrefix(pathname: string): string | undefined {
    const path = pathname.replace(/^\/+/, '');
    if (this.prefix === '') return path;
    const lower = path.toLowerCase();
    if (lower === this.prefix) return '';
    if (lower.startsWith(`${this.prefix}/`)) return path.slice(this.prefix.length + 1);
    return undefined;
  }

  private authorized(level: AuthLevel, req: IncomingMessage, query: string): boolean {
    const { enabled, masterKey, functionKey } = this.options.auth;
    if (!enabled || level === 'anonymous') return true;
    const header = req.headers['x-functions-key'];
    const key = typeof header === 'string' && header !== '' ? header : new URLSearchParams(query).get('code');
    if (!key) return false;
    if (masterKey !== undefined && sameKey(key, masterKey)) return true;
    return level === 'function' && functionKey !== undefined && sameKey(key, functionKey);
  }

  /** Adds CORS headers; answers a preflight itself. Returns true when the request has been answered. */
  private applyCors(req: IncomingMessage, res: ServerResponse, method: string): boolean {
    const origin = req.headers.origin;
    if (typeof origin !== 'string') return false;
    const allowAny = this.options.cors.includes('*');
    if (!allowAny && !this.options.cors.includes(origin)) return false;
    res.setHeader('access-control-allow-origin', allowAny ? '*' : origin);
    if (!allowAny) res.setHeader('vary', 'Origin');
    const requestedMethod = req.headers['access-control-request-method'];
    if (method === 'OPTIONS' && typeof requestedMethod === 'string') {
      res.setHeader('access-control-allow-methods', requestedMethod);
      const requestedHeaders = req.headers['access-control-request-headers'];
      if (typeof requestedHeaders === 'string')
        res.setHeader('access-control-allow-headers', requestedHeaders);
      writeEmpty(res, 204);
      req.resume();
      return true;
    }
    return false;
  }
}

function sameKey(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function writeEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': '0' });
  res.end();
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers[name] = value;
    else if (Array.isArray(value)) headers[name] = value.join(name === 'cookie' ? '; ' : ', ');
  }
  return headers;
}

/**
 * Reads the request body chunk by chunk, refusing more than `limit` bytes (the runtime's limit is 100 MB,
 * FUNCTIONS_REQUEST_BODY_SIZE_LIMIT). A declared Content-Length over the limit is refused before reading.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      total += chunk.length;
      if (total > limit) {
        done = true;
        chunks.length = 0;
        req.pause();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(
        chunks.length === 0
          ? emptyBody
          : chunks.length === 1 && chunks[0]
            ? chunks[0]
            : Buffer.concat(chunks),
      );
    });
    req.on('error', (error) => {
      if (done) return;
      done = true;
      reject(error);
    });
  });
}

interface HttpResponseData {
  status: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Uint8Array;
}

function findHttpResponse(
  outcome: { returnValue: unknown; outputs: unknown[] },
  bindingName: string | undefined,
): HttpResponseData | undefined {
  let data: unknown = bindingName === '$return' ? outcome.returnValue : undefined;
  if (bindingName !== undefined && bindingName !== '$return') {
    const output = outcome.outputs.find((o) => isRecord(o) && o.name === bindingName);
    data = isRecord(output) ? output.data : undefined;
  }
  if (!isRecord(data) || !isRecord(data.http)) return undefined;
  const http = data.http;
  const status = Number(http.statusCode ?? 200);
  const headers: Record<string, string> = {};
  if (isRecord(http.headers)) {
    for (const [name, value] of Object.entries(http.headers))
      if (typeof value === 'string') headers[name] = value;
  }
  const cookies = Array.isArray(http.cookies) ? http.cookies.flatMap(toSetCookie) : [];
  let body: Uint8Array = emptyBody;
  if (isRecord(http.body)) {
    if (http.body.bytes instanceof Uint8Array) body = http.body.bytes;
    else if (typeof http.body.string === 'string') body = Buffer.from(http.body.string);
  }
  return { status: Number.isInteger(status) ? status : 200, headers, cookies, body };
}

function writeRpcResponse(res: ServerResponse, response: HttpResponseData | undefined): void {
  if (!response) {
    // No response set: the runtime falls back to an empty 200.
    writeEmpty(res, 200);
    return;
  }
  for (const [name, value] of Object.entries(response.headers)) {
    if (name.toLowerCase() === 'set-cookie') continue;
    res.setHeader(name, value);
  }
  const setCookies = [
    ...(response.headers['set-cookie'] ? [response.headers['set-cookie']] : []),
    ...response.cookies,
  ];
  if (setCookies.length > 0) res.setHeader('set-cookie', setCookies);
  res.setHeader('content-length', String(response.body.byteLength));
  res.writeHead(response.status);
  res.end(response.body);
}

/** RpcHttpCookie (the library's toRpcHttpCookie output) → a Set-Cookie header value. */
function toSetCookie(cookie: unknown): string[] {
  if (!isRecord(cookie) || typeof cookie.name !== 'string') return [];
  const nullable = (v: unknown): unknown => (isRecord(v) ? v.value : undefined);
  let text = `${cookie.name}=${typeof cookie.value === 'string' ? cookie.value : ''}`;
  const domain = nullable(cookie.domain);
  if (typeof domain === 'string') text += `; domain=${domain}`;
  const path = nullable(cookie.path);
  if (typeof path === 'string') text += `; path=${path}`;
  const expires = nullable(cookie.expires);
  if (isRecord(expires) && typeof expires.seconds === 'number') {
    text += `; expires=${new Date(expires.seconds * 1000).toUTCString()}`;
  }
  const maxAge = nullable(cookie.maxAge);
  if (typeof maxAge === 'number') text += `; max-age=${maxAge}`;
  if (nullable(cookie.secure) === true) text += '; secure';
  if (nullable(cookie.httpOnly) === true) text += '; httponly';
  const sameSite = cookie.sameSite;
  if (sameSite === 'lax' || sameSite === 'strict') text += `; samesite=${sameSite}`;
  else if (sameSite === 'explicitNone') text += '; samesite=none';
  return [text];
}
