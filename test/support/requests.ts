// Requests with node:http and node:https, for what Node's fetch cannot do in a test process: trust one extra CA
// (the self-signed development certificate of `npm start -- --https`) without NODE_EXTRA_CA_CERTS, which Node
// reads only when it starts.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface NodeRequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** PEM of the CA to trust over https (only this one: the system's CAs are not added). */
  readonly ca?: string | Buffer;
  /** Give up after this long (default 30 s). */
  readonly timeoutMs?: number;
}

export interface NodeResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
}

/**
 * One request, its status, headers and body text. Each request has its own connection (no keep-alive), so
 * nothing holds a host open after its test. Rejects with Node's own error for a refused certificate (`code`
 * e.g. DEPTH_ZERO_SELF_SIGNED_CERT).
 * Usage: `const answer = await nodeRequest('https://127.0.0.1:7071/api/health', { ca: cert });`
 */
export function nodeRequest(url: string | URL, options: NodeRequestOptions = {}): Promise<NodeResponse> {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  // A known length, as fetch sends for a string or buffer (not chunked).
  const headers = new Headers(options.headers);
  if (options.body !== undefined && !headers.has('content-length'))
    headers.set('content-length', String(Buffer.byteLength(options.body)));
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: options.method ?? 'GET',
        headers: Object.fromEntries(headers.entries()),
        agent: false,
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        ...(https && options.ca !== undefined ? { ca: options.ca } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: toHeaders(response.headers),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** The same request as a fetch Response, for libraries that take a fetch implementation (jose's customFetch). */
export async function nodeFetch(url: string | URL, options: NodeRequestOptions = {}): Promise<Response> {
  const answer = await nodeRequest(url, options);
  return new Response(answer.text, { status: answer.status, headers: answer.headers });
}
