import type { TransactionAction } from '@azure/data-tables';
import { z } from 'zod';
import type { GroupLicensingCommit, MembershipRuleCommit, TenantStore } from '../application/ports.js';
import type {
  GroupLicenseRecord,
  MembershipRuleRecord,
  ReservationRecord,
  RuleProcessingStatus,
  SubscriptionRecord,
  TenantPartition,
  TenantRecord,
} from '../application/records.js';
import {
  type PrepaidUnits,
  type ProcessingState,
  SUBSCRIPTION_STATES,
  type SubscriptionState,
} from '../engine/index.js';
import { odata } from './keys.js';
import { etagOf } from './optimistic.js';
import { encodeOutbox, notOutboxRows } from './outbox.js';
import {
  CorruptEntityError,
  deleteIfExists,
  getJson,
  getNumber,
  getRow,
  getString,
  putJson,
  queryRows,
  type RawEntity,
  requireJson,
  requireString,
} from './properties.js';
import type { StorageTables } from './tables.js';

export const TENANT_ROW = 'tenant';
export const subscriptionRow = (skuId: string) => `sku|${skuId}`;
export const groupLicenseRow = (groupId: string) => `glic|${groupId}`;
export const reservationRow = (id: string) => `res|${id}`;
export const healPassRow = (skuId: string) => `heal|${skuId}`;
export const membershipRuleRow = (groupId: string) => `rule|${groupId}`;

export function encodeTenant(
  tenant: TenantRecord,
): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  return {
    partitionKey: tenant.id,
    rowKey: TENANT_ROW,
    n: tenant.displayName,
    c: tenant.countryLetterCode,
    h: tenant.licenseErrorHealing,
    cs: tenant.clientState,
    ct: tenant.createdDateTime,
  };
}

function decodeTenant(entity: RawEntity): TenantRecord {
  const healing = getString(entity, 'h');
  if (healing !== 'automatic' && healing !== 'manual') throw new CorruptEntityError(entity, 'h');
  return {
    id: entity.partitionKey,
    displayName: requireString(entity, 'n'),
    countryLetterCode: requireString(entity, 'c'),
    licenseErrorHealing: healing,
    clientState: requireString(entity, 'cs'),
    createdDateTime: requireString(entity, 'ct'),
    etag: entity.etag,
  };
}

export function encodeSubscription(
  tenantId: string,
  sub: SubscriptionRecord,
): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  return {
    partitionKey: tenantId,
    rowKey: subscriptionRow(sub.skuId),
    en: sub.prepaidUnits.enabled,
    wa: sub.prepaidUnits.warning,
    su: sub.prepaidUnits.suspended,
    lo: sub.prepaidUnits.lockedOut,
    c: sub.consumedUnits,
    ct: sub.createdDateTime,
    ...(sub.lifecycle
      ? { ls: sub.lifecycle.state, sd: sub.lifecycle.startDate, nd: sub.lifecycle.nextLifecycleDate ?? '' }
      : {}),
    ...(sub.lifecycleOwed ? { lw: JSON.stringify(sub.lifecycleOwed) } : {}),
  };
}

const stateSchema = z.enum(SUBSCRIPTION_STATES);
const owedSchema = z.object({
  id: z.string(),
  from: stateSchema.nullable(),
  to: stateSchema,
  at: z.string(),
  by: z.enum(['operator', 'sweep']),
  moreSeats: z.boolean(),
});

export function decodeSubscription(entity: RawEntity): SubscriptionRecord {
  const state = getString(entity, 'ls');
  const prepaidUnits: PrepaidUnits = {
    enabled: getNumber(entity, 'en'),
    warning: getNumber(entity, 'wa'),
    suspended: getNumber(entity, 'su'),
    lockedOut: getNumber(entity, 'lo'),
  };
  return {
    skuId: entity.rowKey.slice('sku|'.length),
    prepaidUnits,
    consumedUnits: getNumber(entity, 'c'),
    createdDateTime: requireString(entity, 'ct'),
    ...(state === undefined
      ? {}
      : {
          lifecycle: {
            state: parseState(entity, state),
            startDate: requireString(entity, 'sd'),
            nextLifecycleDate: getString(entity, 'nd') || null,
          },
        }),
    ...(getString(entity, 'lw') === undefined
      ? {}
      : { lifecycleOwed: requireJson(entity, 'lw', owedSchema) }),
    etag: entity.etag,
  };
}

function parseState(entity: RawEntity, state: string): SubscriptionState {
  const parsed = stateSchema.safeParse(state);
  if (!parsed.success) throw new CorruptEntityError(entity, `ls: unknown subscription state '${state}'`);
  return parsed.data;
}

const licenseSchema = z.array(z.object({ skuId: z.string(), disabledPlans: z.array(z.string()) }));
const STATES: Record<string, ProcessingState> = {
  Q: 'QueuedForProcessing',
  P: 'ProcessingInProgress',
  C: 'ProcessingComplete',
};
const STATE_CODES: Record<ProcessingState, string> = {
  QueuedForProcessing: 'Q',
  ProcessingInProgress: 'P',
  ProcessingComplete: 'C',
};

export function encodeGroupLicense(
  tenantId: string,
  record: GroupLicenseRecord,
): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: tenantId,
    rowKey: groupLicenseRow(record.groupId),
    ps: STATE_CODES[record.processingState],
    ut: record.updatedDateTime,
  };
  putJson(entity, 'lic', record.licenses);
  if (record.licensedSince !== null) entity.ls = record.licensedSince;
  if (record.jobId !== null) entity.job = record.jobId;
  if (record.lastFailure) entity.fx = record.lastFailure;
  return entity;
}

function decodeGroupLicense(entity: RawEntity): GroupLicenseRecord {
  const state = STATES[getString(entity, 'ps') ?? ''];
  if (!state) throw new CorruptEntityError(entity, 'ps');
  return {
    groupId: entity.rowKey.slice('glic|'.length),
    licenses: getJson(entity, 'lic', licenseSchema, []),
    licensedSince: getString(entity, 'ls') ?? null,
    jobId: getString(entity, 'job') ?? null,
    processingState: state,
    updatedDateTime: requireString(entity, 'ut'),
    lastFailure: getString(entity, 'fx') ?? null,
    etag: entity.etag,
  };
}

const RULE_STATUSES = [
  'NotStarted',
  'Running',
  'Succeeded',
  'Failed',
] as const satisfies readonly RuleProcessingStatus[];

export function encodeMembershipRule(
  tenantId: string,
  record: MembershipRuleRecord,
): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: tenantId,
    rowKey: membershipRuleRow(record.groupId),
    rule: record.membershipRule,
    on: record.processingState === 'On',
    st: record.status,
    ut: record.updatedDateTime,
  };
  if (record.jobId !== null) entity.job = record.jobId;
  if (record.lastMembershipUpdated !== null) entity.lm = record.lastMembershipUpdated;
  if (record.errorMessage !== null) entity.err = record.errorMessage;
  return entity;
}

function decodeMembershipRule(entity: RawEntity): MembershipRuleRecord {
  const status = RULE_STATUSES.find((s) => s === getString(entity, 'st'));
  if (!status) throw new CorruptEntityError(entity, 'st');
  return {
    groupId: entity.rowKey.slice('rule|'.length),
    membershipRule: requireString(entity, 'rule'),
    processingState: entity.on === true ? 'On' : 'Paused',
    jobId: getString(entity, 'job') ?? null,
    status,
    lastMembershipUpdated: getString(entity, 'lm') ?? null,
    errorMessage: getString(entity, 'err') ?? null,
    updatedDateTime: requireString(entity, 'ut'),
    etag: entity.etag,
  };
}

const chunkSchema = z.array(
  z.object({
    key: z.string(),
    partition: z.string(),
    gains: z.record(z.string(), z.number()),
    loses: z.record(z.string(), z.number()),
  }),
);
const countsSchema = z.record(z.string(), z.number());

export function encodeReservation(
  tenantId: string,
  record: ReservationRecord,
): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: tenantId,
    rowKey: reservationRow(record.id),
    ct: record.createdDateTime,
    ow: record.owner,
    lu: record.leaseUntil,
  };
  putJson(entity, 'ch', record.chunks);
  putJson(entity, 'sl', record.settledLoses);
  return entity;
}

export function decodeReservation(entity: RawEntity): ReservationRecord {
  return {
    id: entity.rowKey.slice('res|'.length),
    createdDateTime: requireString(entity, 'ct'),
    owner: requireString(entity, 'ow'),
    leaseUntil: requireString(entity, 'lu'),
    chunks: getJson(entity, 'ch', chunkSchema, []),
    settledLoses: getJson(entity, 'sl', countsSchema, {}),
    etag: entity.etag,
  };
}

/**
 * Reads a tenant's whole control partition in one query (a few dozen rows), or undefined if it does not exist.
 * Outbox rows are left out: they are the outbox's own business (storage/outbox.ts).
 */
export async function readTenantPartition(
  tables: StorageTables,
  tenantId: string,
): Promise<TenantPartition | undefined> {
  let tenant: TenantRecord | undefined;
  const subscriptions = new Map<string, SubscriptionRecord>();
  const groupLicenses = new Map<string, GroupLicenseRecord>();
  const reservations = new Map<string, ReservationRecord>();
  const healPasses = new Map<string, string>();
  const membershipRules = new Map<string, MembershipRuleRecord>();
  const rows = queryRows(tables.tenants, `PartitionKey eq ${odata(tenantId)} and ${notOutboxRows()}`);
  for await (const entity of rows) {
    const key = entity.rowKey;
    if (key === TENANT_ROW) tenant = decodeTenant(entity);
    else if (key.startsWith('sku|')) {
      const sub = decodeSubscription(entity);
      subscriptions.set(sub.skuId, sub);
    } else if (key.startsWith('glic|')) {
      const lic = decodeGroupLicense(entity);
      groupLicenses.set(lic.groupId, lic);
    } else if (key.startsWith('res|')) {
      const res = decodeReservation(entity);
      reservations.set(res.id, res);
    } else if (key.startsWith('heal|')) {
      healPasses.set(key.slice('heal|'.length), requireString(entity, 'at'));
    } else if (key.startsWith('rule|')) {
      const rule = decodeMembershipRule(entity);
      membershipRules.set(rule.groupId, rule);
    }
  }
  return tenant
    ? { tenant, subscriptions, groupLicenses, reservations, healPasses, membershipRules }
    : undefined;
}

/**
 * Records that a heal pass begun at `startedAt` finished. Unguarded: two passes finishing together may leave the
 * earlier start, which only lets fewer later messages be skipped.
 */
export async function recordHealPass(
  tables: StorageTables,
  tenantId: string,
  skuId: string,
  startedAt: string,
): Promise<void> {
  await tables.tenants.upsertEntity(
    { partitionKey: tenantId, rowKey: healPassRow(skuId), at: startedAt },
    'Replace',
  );
}

export async function readTenant(tables: StorageTables, tenantId: string): Promise<TenantRecord | undefined> {
  const entity = await getRow(tables.tenants, tenantId, TENANT_ROW);
  return entity ? decodeTenant(entity) : undefined;
}

/** The tenant store on the tenants table: the tenant row and its control partition (src/storage/README.md). */
export class TableTenantStore implements TenantStore {
  constructor(private readonly tables: StorageTables) {}

  async create(tenant: TenantRecord): Promise<void> {
    await this.tables.tenants.createEntity(encodeTenant(tenant));
  }

  read(tenantId: string): Promise<TenantRecord | undefined> {
    return readTenant(this.tables, tenantId);
  }

  partition(tenantId: string): Promise<TenantPartition | undefined> {
    return readTenantPartition(this.tables, tenantId);
  }

  async replace(tenant: TenantRecord): Promise<TenantRecord> {
    const response = await this.tables.tenants.updateEntity(encodeTenant(tenant), 'Replace', {
      etag: etagOf(tenant, `tenant ${tenant.id}`),
    });
    return { ...tenant, etag: response.etag };
  }

  async saveSubscription(tenantId: string, subscription: SubscriptionRecord): Promise<SubscriptionRecord> {
    const entity = encodeSubscription(tenantId, subscription);
    const response =
      subscription.etag === undefined
        ? await this.tables.tenants.createEntity(entity)
        : await this.tables.tenants.updateEntity(entity, 'Replace', { etag: subscription.etag });
    return { ...subscription, etag: response.etag };
  }

  recordHealPass(tenantId: string, skuId: string, startedAt: string): Promise<void> {
    return recordHealPass(this.tables, tenantId, skuId, startedAt);
  }

  async markGroupLicenseFailed(tenantId: string, license: GroupLicenseRecord, reason: string): Promise<void> {
    await this.tables.tenants.updateEntity(
      { partitionKey: tenantId, rowKey: groupLicenseRow(license.groupId), ps: 'C', fx: reason },
      'Merge',
      { etag: etagOf(license, `the license assignment of group ${license.groupId}`) },
    );
  }

  async deleteGroupLicense(tenantId: string, groupId: string): Promise<void> {
    await deleteIfExists(this.tables.tenants, tenantId, groupLicenseRow(groupId));
  }

  async commitGroupLicensing(
    tenantId: string,
    commit: GroupLicensingCommit,
  ): Promise<{ outboxEtag?: string }> {
    const what = (groupId: string) => `the license assignment of group ${groupId}`;
    const actions: TransactionAction[] = (commit.licenses ?? []).map(({ current, next }) =>
      current
        ? [
            'update',
            encodeGroupLicense(tenantId, next),
            'Replace',
            { etag: etagOf(current, what(next.groupId)) },
          ]
        : ['create', encodeGroupLicense(tenantId, next)],
    );
    if (commit.processingState) {
      const { current, state } = commit.processingState;
      actions.push([
        'update',
        {
          partitionKey: tenantId,
          rowKey: groupLicenseRow(current.groupId),
          ps: STATE_CODES[state],
        },
        'Merge',
        { etag: etagOf(current, what(current.groupId)) },
      ]);
    }
    const created = commit.createOutbox ? actions.length : -1;
    if (commit.createOutbox) actions.push(['create', encodeOutbox(tenantId, commit.createOutbox)]);
    if (commit.replaceOutbox) {
      const row = commit.replaceOutbox;
      actions.push([
        'update',
        encodeOutbox(tenantId, row),
        'Replace',
        { etag: etagOf(row, `outbox row ${row.id}`) },
      ]);
    }
    if (actions.length === 0) return {};
    const response = await this.tables.tenants.submitTransaction(actions);
    const outboxEtag = created >= 0 ? response.subResponses[created]?.etag : undefined;
    return outboxEtag ? { outboxEtag } : {};
  }

  async commitMembershipRule(
    tenantId: string,
    commit: MembershipRuleCommit,
  ): Promise<{ outboxEtag?: string }> {
    const what = `the membership rule of group ${commit.groupId}`;
    const actions: TransactionAction[] = [];
    const { current, next } = commit;
    if (next === null) {
      // A transaction's delete takes no ETag: the group is going or turning static, whatever the rule says now.
      if (current)
        actions.push(['delete', { partitionKey: tenantId, rowKey: membershipRuleRow(commit.groupId) }]);
    } else if (current) {
      actions.push([
        'update',
        encodeMembershipRule(tenantId, next),
        'Replace',
        { etag: etagOf(current, what) },
      ]);
    } else actions.push(['create', encodeMembershipRule(tenantId, next)]);
    const created = commit.createOutbox ? actions.length : -1;
    if (commit.createOutbox) actions.push(['create', encodeOutbox(tenantId, commit.createOutbox)]);
    if (actions.length === 0) return {};
    const response = await this.tables.tenants.submitTransaction(actions);
    const outboxEtag = created >= 0 ? response.subResponses[created]?.etag : undefined;
    return outboxEtag ? { outboxEtag } : {};
  }

  async *ids(): AsyncIterable<string> {
    for await (const row of queryRows(this.tables.tenants, `RowKey eq ${odata(TENANT_ROW)}`, [
      'PartitionKey',
    ]))
      yield row.partitionKey;
  }
}
