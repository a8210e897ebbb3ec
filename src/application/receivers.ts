import type { AlertReceivers, ReceiverAnswer } from './ports.js';

/** Alert receivers reached with the platform's fetch: no redirects followed (a receiver answers where it is asked). */
export class FetchReceivers implements AlertReceivers {
  async post(
    url: string,
    body: string,
    headers: Readonly<Record<string, string>>,
    timeoutMs: number,
  ): Promise<ReceiverAnswer> {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = (await response.text()).slice(0, 4096);
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', text };
  }
}
