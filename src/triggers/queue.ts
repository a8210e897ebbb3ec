import type { InvocationContext } from '@azure/functions';
import type { z } from 'zod';

/**
 * A queue message that does not match its schema can never succeed: it is logged and dropped (returning normally
 * deletes it), rather than retried five times into the poison queue.
 */
export function parseMessage<T>(
  schema: z.ZodType<T>,
  raw: unknown,
  context: InvocationContext,
): T | undefined {
  const text = typeof raw === 'string' ? raw : undefined;
  let value: unknown = raw;
  if (text !== undefined) {
    try {
      value = JSON.parse(text);
    } catch {
      context.error(`Dropping a message that is not JSON: ${text.slice(0, 200)}`);
      return undefined;
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    context.error(`Dropping a malformed message: ${parsed.error.message.slice(0, 500)}`);
    return undefined;
  }
  return parsed.data;
}

/** The queue message id: stable across redeliveries, so it keys the work's seat reservation. */
export function messageIdOf(context: InvocationContext): string {
  const id = context.triggerMetadata?.id;
  return typeof id === 'string' && id !== '' ? id : context.invocationId;
}

export function dequeueCountOf(context: InvocationContext): number {
  const count = context.triggerMetadata?.dequeueCount;
  return typeof count === 'number' ? count : Number(count ?? 1);
}
