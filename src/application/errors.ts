import type { LicensingFailure } from '../engine/index.js';

/*
 * Failures the use cases report, as stable codes with the facts a message needs. Only the HTTP edge turns them
 * into status codes and Graph's wording (src/api/envelope.ts, one exhaustive mapping).
 */

/** What a use case refuses, and why: a code a program can match, with the ids or limits involved. */
export type Refusal =
  /** Another object already has this id (a client-chosen id, or a retried create that found someone else's). */
  | { readonly code: 'ObjectIdTaken'; readonly id: string }
  | { readonly code: 'UserPrincipalNameTaken'; readonly userPrincipalName: string }
  | { readonly code: 'AlreadyMember'; readonly groupId: string; readonly memberId: string }
  | { readonly code: 'GroupMemberOfItself'; readonly groupId: string }
  | { readonly code: 'GroupHasLicenses'; readonly groupId: string }
  | { readonly code: 'TooManySecrets'; readonly limit: number }
  | { readonly code: 'SecretEndsInThePast' }
  | { readonly code: 'SkuNotInCatalog'; readonly sku: string }
  /** A dynamic membership rule that does not parse (0-based position, and what was expected there). */
  | { readonly code: 'InvalidMembershipRule'; readonly position: number; readonly reason: string }
  /** A membership rule (or its processing state) on a group whose groupTypes lack DynamicMembership. */
  | { readonly code: 'RuleWithoutDynamicMembership'; readonly groupId: string }
  /** A group with DynamicMembership in its groupTypes but no rule. */
  | { readonly code: 'DynamicMembershipWithoutRule'; readonly groupId: string }
  /** Dynamic groups here are security groups: only they carry licenses. */
  | { readonly code: 'DynamicGroupNotSecurityEnabled'; readonly groupId: string }
  /** Members of a dynamic group are its rule's to decide, never added or removed by hand. */
  | { readonly code: 'DynamicMembershipManaged'; readonly groupId: string }
  /** An alert receiver must be https (or http on this machine: 127.0.0.1, localhost, [::1]). */
  | { readonly code: 'AlertReceiverNotAllowed'; readonly url: string }
  /** The alert receiver did not echo the validation token as Graph's handshake asks. */
  | { readonly code: 'AlertHandshakeFailed'; readonly url: string; readonly reason: string }
  /** A rule about devices evaluated for a user, or the reverse. */
  | {
      readonly code: 'RuleSubjectMismatch';
      readonly memberId: string;
      readonly memberKind: 'user' | 'device';
      readonly ruleSubject: 'user' | 'device';
    };

export type RefusalCode = Refusal['code'];

/**
 * Work for a group that failed for good (its message was poisoned), shown on the group's processing details until
 * its next change. The group's row stores only the code.
 */
export type GroupProcessingFailure = { readonly code: 'JobNotPlanned'; readonly groupId: string };

/** A request that is well-formed but refused by the rules or the current state. */
export class RefusedError extends Error {
  constructor(readonly refusal: Refusal) {
    super(`Refused: ${refusal.code}`);
    this.name = 'RefusedError';
  }
}

/** The object named does not exist (or is not visible to this tenant). */
export class NotFoundError extends Error {
  constructor(readonly resourceId: string) {
    super(`Not found: ${resourceId}`);
    this.name = 'NotFoundError';
  }
}

/** A license request the licensing rules refuse (the engine's failure: a code and its facts). */
export class LicensingRefusedError extends Error {
  constructor(readonly failure: LicensingFailure) {
    super(`Refused: ${failure.code}`);
    this.name = 'LicensingRefusedError';
  }
}

/** Storage stayed contended (optimistic writes kept losing) after every retry; the caller should retry shortly. */
export class StorageContentionError extends Error {
  constructor(what: string, attempts: number) {
    super(`${what}: still contended after ${attempts} attempts; retry shortly.`);
    this.name = 'StorageContentionError';
  }
}

/**
 * A write lost an optimistic race: the row changed since it was read (or, for a create, exists). What the ports'
 * in-memory doubles throw; the table adapters let storage's own 412/409 through, and `isConflict` (storage/
 * properties.ts) recognises both, so one retry policy serves every adapter.
 */
export class WriteConflictError extends Error {
  constructor(what: string) {
    super(`${what} changed since it was read.`);
    this.name = 'WriteConflictError';
  }
}
