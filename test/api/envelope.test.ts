// How handler failures become Graph errors: contention is a retryable 503, the unexpected a 500 without internals.
import { describe, expect, it } from 'vitest';
import { requestIds, toErrorResponse } from '../../src/api/envelope.js';
import { StorageContentionError } from '../../src/application/errors.js';

describe('toErrorResponse', () => {
  it('answers lost optimistic races with 503 serviceNotAvailable and Retry-After, as Graph does when busy', () => {
    const logged: string[] = [];
    const response = toErrorResponse(
      new StorageContentionError('Updating 3 principals', 25),
      requestIds(null),
      (m) => logged.push(m),
    );
    expect(response.status).toBe(503);
    expect(response.headers).toEqual({ 'Retry-After': '1' });
    expect(response.body).toMatchObject({ error: { code: 'serviceNotAvailable' } });
    expect(JSON.stringify(response.body)).not.toContain('principals');
    expect(logged).toEqual([]);
  });

  it('answers anything unexpected with 500 generalException and logs the details', () => {
    const logged: string[] = [];
    const response = toErrorResponse(new Error('disk on fire'), requestIds(null), (m) => logged.push(m));
    expect(response.status).toBe(500);
    expect(JSON.stringify(response.body)).not.toContain('disk on fire');
    expect(logged.join('\n')).toContain('disk on fire');
  });
});
