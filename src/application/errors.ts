import type { LicensingFailure } from '../engine/index.js';

/**
 * Failures the use cases report. They carry what the caller needs to say (the Graph message included); only the
 * HTTP edge maps them to status codes and envelopes.
 */
export class NotFoundError extends Error {
  constructor(readonly resourceId: string) {
    super(
      `Resource '${resourceId}' does not exist or one of its queried reference-property objects are not present.`,
    );
    this.name = 'NotFoundError';
  }
}

export class LicensingRefusedError extends Error {
  constructor(readonly failure: LicensingFailure) {
    super(failure.message);
    this.name = 'LicensingRefusedError';
  }
}

/** A request that is well-formed but not allowed in the current state (Graph answers 400 Request_BadRequest). */
export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

/** A uniqueness conflict (an object with this user principal name already exists, …). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** Storage stayed contended (optimistic writes kept losing) after every retry; the caller should retry shortly. */
export class StorageContentionError extends Error {
  constructor(what: string, attempts: number) {
    super(`${what}: still contended after ${attempts} attempts; retry shortly.`);
    this.name = 'StorageContentionError';
  }
}
