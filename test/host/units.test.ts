// Pure pieces of the host: glob, route templates and precedence, NCRONTAB, back-off, settings.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RandomizedExponentialBackoff } from '../../src/host/backoff.js';
import { expandBraces, globFiles } from '../../src/host/glob.js';
import { parseNcrontab } from '../../src/host/ncrontab.js';
import { poisonQueueName } from '../../src/host/queueListener.js';
import { RouteTable } from '../../src/host/routing.js';
import { isLocalStorage, resolveConnection, toDurationMs, toHostConfig } from '../../src/host/settings.js';
import { resolveConnectionString } from '../../src/storage/connection.js';

describe('glob', () => {
  it('expands braces, *, ** and skips dot folders', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'glob-'));
    for (const file of ['a.js', 'b.js', 'c.ts', 'sub/d.js', 'sub/deep/e.js', '.hidden/f.js', 'index.js']) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), '');
    }
    const rel = (pattern: string) => globFiles(pattern, dir).map((f) => path.relative(dir, f));
    expect(expandBraces('x/{a,b{c,d}}.js')).toEqual(['x/a.js', 'x/bc.js', 'x/bd.js']);
    expect(rel('*.js')).toEqual(['a.js', 'b.js', 'index.js']);
    expect(rel('**/*.js')).toEqual(['a.js', 'b.js', 'index.js', 'sub/d.js', 'sub/deep/e.js']);
    expect(rel('{index.js,sub/*.js}')).toEqual(['index.js', 'sub/d.js']);
    expect(rel('sub/**')).toEqual(['sub/d.js', 'sub/deep/e.js']);
    expect(rel('?.ts')).toEqual(['c.ts']);
    expect(rel('nothing/*.js')).toEqual([]);
  });
});

describe('route table', () => {
  const table = new RouteTable<string>();
  table.add('users/{id}', ['GET'], 'param');
  table.add('users/{id:int}', ['GET'], 'int');
  table.add('users/delta', ['GET'], 'literal');
  table.add('users/{*rest}', ['GET'], 'catchall');
  table.add('files/{name}.{ext}', ['GET'], 'complex');
  table.add('orders/{id=42}', ['GET'], 'default');
  table.add('things/{id:regex(^[a-z]{{3}}$)}', ['GET'], 'regex');

  it('orders literal < constrained < parameter < catch-all', () => {
    expect(table.match('users/delta', 'GET')?.route.target).toBe('literal');
    expect(table.match('users/7', 'GET')?.route.target).toBe('int');
    expect(table.match('users/bob', 'GET')?.route.target).toBe('param');
    expect(table.match('users/a/b', 'GET')?.route.target).toBe('catchall');
  });

  it('binds complex segments, defaults and regex constraints; respects methods', () => {
    expect(table.match('files/report.pdf', 'GET')?.params).toEqual({ name: 'report', ext: 'pdf' });
    expect(table.match('orders', 'GET')?.params).toEqual({ id: '42' });
    expect(table.match('things/abc', 'GET')?.route.target).toBe('regex');
    expect(table.match('things/abcd', 'GET')).toBeUndefined();
    expect(table.match('users/bob', 'POST')).toBeUndefined();
  });

  it('rejects unknown constraints', () => {
    expect(() => new RouteTable().add('x/{id:nope}', ['GET'], 1)).toThrow('unknown route constraint "nope"');
  });
});

describe('NCRONTAB', () => {
  const at = (iso: string) => new Date(iso);
  it('computes the next occurrence of 6-field schedules', () => {
    expect(parseNcrontab('*/15 * * * * *').next(at('2024-05-01T10:00:07Z')).toISOString()).toBe(
      '2024-05-01T10:00:15.000Z',
    );
    expect(parseNcrontab('0 */5 * * * *').next(at('2024-05-01T10:04:59Z')).toISOString()).toBe(
      '2024-05-01T10:05:00.000Z',
    );
    expect(parseNcrontab('0 30 9 * * 1-5').next(at('2024-05-03T10:00:00Z')).toISOString()).toBe(
      '2024-05-06T09:30:00.000Z',
    );
    expect(parseNcrontab('0 0 0 1 JAN,JUL *').next(at('2024-02-10T00:00:00Z')).toISOString()).toBe(
      '2024-07-01T00:00:00.000Z',
    );
    expect(parseNcrontab('0 0 12 * * SUN').next(at('2024-05-01T00:00:00Z')).toISOString()).toBe(
      '2024-05-05T12:00:00.000Z',
    );
  });

  it('rejects malformed schedules', () => {
    expect(() => parseNcrontab('* * *')).toThrow('expected 6 fields');
    expect(() => parseNcrontab('61 * * * * *')).toThrow('out of range');
  });
});

describe('queue polling back-off', () => {
  it('grows from 100 ms with ±20% jitter to the cap, and resets on success', () => {
    const mid = new RandomizedExponentialBackoff(100, 2000, 100, () => 0.5);
    const delays = Array.from({ length: 8 }, () => mid.next(false));
    expect(delays).toEqual([100, 200, 300, 500, 900, 1700, 2000, 2000]);
    expect(mid.next(true)).toBe(100);
    const high = new RandomizedExponentialBackoff(100, 60_000, 100, () => 1);
    high.next(false);
    expect(high.next(false)).toBeCloseTo(220);
  });
});

describe('settings', () => {
  it('reads host.json with the runtime defaults', () => {
    const config = toHostConfig({}, true, 2);
    expect(config.routePrefix).toBe('api');
    expect(config.queues).toEqual({
      batchSize: 16,
      newBatchThreshold: 16,
      maxPollingIntervalMs: 2000,
      visibilityTimeoutMs: 0,
      maxDequeueCount: 5,
      messageEncoding: 'base64',
    });
    expect(toHostConfig({}, false, 2).queues.maxPollingIntervalMs).toBe(60_000);
    const custom = toHostConfig(
      { extensions: { http: { routePrefix: '' }, queues: { batchSize: 4, visibilityTimeout: '00:00:05' } } },
      true,
      3,
    );
    expect(custom.routePrefix).toBe('');
    expect(custom.queues.newBatchThreshold).toBe(6);
    expect(custom.queues.visibilityTimeoutMs).toBe(5000);
    expect(() => toHostConfig({ extensions: { queues: { batchSize: 64 } } }, true, 2)).toThrow('1 to 32');
  });

  it('parses TimeSpans', () => {
    expect(toDurationMs('00:10:00')).toBe(600_000);
    expect(toDurationMs('1.02:00:00.5')).toBe(93_600_500);
  });

  it('resolves connections and recognises local storage', () => {
    expect(resolveConnectionString('UseDevelopmentStorage=true')).toContain(
      'QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1',
    );
    const connectionString = (s: string) => ({ kind: 'connectionString', connectionString: s });
    expect(resolveConnection(undefined, { AzureWebJobsStorage: 'a' })).toEqual(connectionString('a'));
    expect(resolveConnection('Other', { AzureWebJobsOther: 'x', Other: 'y' })).toEqual(connectionString('x'));
    expect(resolveConnection('Other', { Other: 'y' })).toEqual(connectionString('y'));
    expect(() => resolveConnection('Missing', {})).toThrow('"Missing" is not set');
    expect(isLocalStorage('UseDevelopmentStorage=true')).toBe(true);
    expect(isLocalStorage('QueueEndpoint=http://localhost:10001/x;TableEndpoint=http://127.0.0.1:1/x')).toBe(
      true,
    );
    expect(isLocalStorage('DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=k')).toBe(false);
  });

  it('names poison queues like the runtime', () => {
    expect(poisonQueueName('orders')).toBe('orders-poison');
    expect(poisonQueueName('orders-poison')).toBeUndefined();
    expect(poisonQueueName('a'.repeat(60))).toBeUndefined();
  });
});
