// Serves the Licenses console (src/console, bundled by `npm run build` into dist/console) from the function app
// itself, so the console needs no second server and deploys with the functions. Only the files the build wrote are
// served — the list is read once from the folder — so no request path can reach anything else on disk.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';

/** dist/src/api/console-assets.js → dist/console. */
const ASSET_DIR = path.resolve(__dirname, '../../console');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Griffel (Fluent UI's styling engine) inserts style rules at run time, hence 'unsafe-inline' for styles only;
 * scripts come from this origin alone, and the page talks to this origin alone.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

let assets: ReadonlyMap<string, Asset> | undefined;

function loadAssets(): ReadonlyMap<string, Asset> {
  const found = new Map<string, Asset>();
  let names: string[] = [];
  try {
    names = readdirSync(ASSET_DIR);
  } catch {
    // Not built: every request gets the 503 below, which says how to build it.
  }
  for (const name of names) {
    const contentType = CONTENT_TYPES[path.extname(name)];
    if (contentType) found.set(name, { body: readFileSync(path.join(ASSET_DIR, name)), contentType });
  }
  return found;
}

/** `GET /api/console/{*path}`: the page for `console/` (and any client-side route), the bundle's files by name. */
export async function serveConsole(request: HttpRequest): Promise<HttpResponseInit> {
  assets ??= loadAssets();
  const url = new URL(request.url);
  // Relative asset URLs need the trailing slash: /api/console → /api/console/.
  if (!url.pathname.endsWith('/') && !request.params.path) {
    return { status: 308, headers: { location: `${url.pathname}/${url.search}` } };
  }
  const name = request.params.path ?? '';
  const asset = assets.get(name === '' ? 'index.html' : name);
  if (!asset) {
    if (!assets.has('index.html')) {
      return {
        status: 503,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: 'The console is not built: run `npm run build` (npm start does it), then reload.',
      };
    }
    return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found.' };
  }
  return {
    status: 200,
    headers: {
      ...SECURITY_HEADERS,
      'content-type': asset.contentType,
      // The page always asks again (it names the bundle); the bundle is rebuilt under the same name, so revalidate.
      'cache-control': 'no-cache',
    },
    body: asset.body,
  };
}
