import type { DirectoryAudit, GroupRecord, PrincipalRecord } from './records.js';

/*
 * The ports: what the use cases ask of storage, as interfaces the storage adapters implement (src/storage). What
 * may be asked is typed here; how it is answered (table filters over storage columns, continuation tokens) is the
 * adapter's business.
 */

/** A string property compared as Graph compares directory strings: case-insensitively. */
export type TextCondition = { readonly equals: string } | { readonly startsWith: string };

export type UserCondition =
  | { readonly property: 'assignedLicenses'; readonly skuId: string }
  | { readonly property: 'usageLocation'; readonly equals: string }
  | { readonly property: 'accountEnabled'; readonly equals: boolean }
  | { readonly property: 'userPrincipalName'; readonly equals: string }
  | ({ readonly property: 'displayName' } & TextCondition);

export type DeviceCondition =
  | { readonly property: 'accountEnabled'; readonly equals: boolean }
  | ({ readonly property: 'displayName' } & TextCondition);

export type GroupCondition =
  | { readonly property: 'securityEnabled'; readonly equals: boolean }
  | { readonly property: 'mailEnabled'; readonly equals: boolean }
  | ({ readonly property: 'displayName' } & TextCondition);

export type AuditCondition =
  | ({ readonly property: 'activityDisplayName' } & TextCondition)
  | {
      readonly property: 'activityDateTime';
      readonly op: 'ge' | 'gt' | 'le' | 'lt';
      /** An ISO 8601 instant. */
      readonly value: string;
    };

export interface UserQuery {
  /** Soft-deleted users (the directory's deleted items) instead of active ones. */
  readonly deleted: boolean;
  readonly conditions: readonly UserCondition[];
}

/** Where a listing resumes: the page size and the position a previous page ended at. */
export interface PageRequest {
  readonly top: number;
  /** Opaque: what the previous page's `continuation` said. */
  readonly continuation?: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Set when more remain. */
  readonly continuation?: string;
}

/** The directory's listings (src/storage/directory-queries.ts). */
export interface DirectoryQueries {
  users(tenantId: string, query: UserQuery, page: PageRequest): Promise<Page<PrincipalRecord>>;
  countUsers(tenantId: string, query: UserQuery): Promise<number>;
  devices(
    tenantId: string,
    conditions: readonly DeviceCondition[],
    page: PageRequest,
  ): Promise<Page<PrincipalRecord>>;
  countDevices(tenantId: string, conditions: readonly DeviceCondition[]): Promise<number>;
  groups(
    tenantId: string,
    conditions: readonly GroupCondition[],
    page: PageRequest,
  ): Promise<Page<GroupRecord>>;
  countGroups(tenantId: string, conditions: readonly GroupCondition[]): Promise<number>;
  /** Newest first. */
  audits(
    tenantId: string,
    conditions: readonly AuditCondition[],
    page: PageRequest,
  ): Promise<Page<DirectoryAudit>>;
}
