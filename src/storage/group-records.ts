import { z } from 'zod';
import type { GroupRecord } from '../application/records.js';
import { groupPartition, odata, tenantRangeEnd } from './keys.js';
import {
  getBoolean,
  getJson,
  getRow,
  getString,
  putJson,
  queryRows,
  type RawEntity,
  requireString,
} from './properties.js';
import type { StorageTables } from './tables.js';

export type { GroupRecord };

const memberOfSchema = z.array(
  z.object({ g: z.string(), t: z.string(), b: z.number().int(), q: z.number().optional() }),
);
const removedSchema = z.array(z.object({ g: z.string(), t: z.string(), q: z.number().optional() }));

export function encodeGroup(
  group: GroupRecord,
): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: groupPartition(group.tenantId, group.id),
    rowKey: group.id,
    n: group.displayName,
    nl: group.displayName.toLowerCase(),
    mn: group.mailNickname,
    se: group.securityEnabled,
    me: group.mailEnabled,
    ct: group.createdDateTime,
  };
  if (group.description !== null) entity.desc = group.description;
  putJson(entity, 'gt', group.groupTypes);
  if (group.memberOf.length > 0) {
    putJson(
      entity,
      'mo',
      group.memberOf.map((m) => ({
        g: m.groupId,
        t: m.joinedAt,
        b: m.bucket,
        ...(m.sequence === undefined ? {} : { q: m.sequence }),
      })),
    );
  }
  if (group.removedMemberships.length > 0) {
    putJson(
      entity,
      'rm',
      group.removedMemberships.map((m) => ({
        g: m.groupId,
        t: m.removedAt,
        ...(m.sequence === undefined ? {} : { q: m.sequence }),
      })),
    );
  }
  return entity;
}

export function decodeGroup(tenantId: string, entity: RawEntity): GroupRecord {
  return {
    tenantId,
    id: entity.rowKey,
    displayName: requireString(entity, 'n'),
    description: getString(entity, 'desc') ?? null,
    mailNickname: requireString(entity, 'mn'),
    securityEnabled: getBoolean(entity, 'se'),
    mailEnabled: getBoolean(entity, 'me'),
    groupTypes: getJson(entity, 'gt', z.array(z.string()), []),
    createdDateTime: requireString(entity, 'ct'),
    memberOf: getJson(entity, 'mo', memberOfSchema, []).map((m) => ({
      groupId: m.g,
      joinedAt: m.t,
      bucket: m.b,
      ...(m.q === undefined ? {} : { sequence: m.q }),
    })),
    removedMemberships: getJson(entity, 'rm', removedSchema, []).map((m) => ({
      groupId: m.g,
      removedAt: m.t,
      ...(m.q === undefined ? {} : { sequence: m.q }),
    })),
    etag: entity.etag,
  };
}

export async function readGroup(
  tables: StorageTables,
  tenantId: string,
  id: string,
): Promise<GroupRecord | undefined> {
  const entity = await getRow(tables.groups, groupPartition(tenantId, id), id);
  return entity ? decodeGroup(tenantId, entity) : undefined;
}

/** Lists a tenant's groups (for admin reads and the simulator; not on a hot path). */
export async function* listGroups(tables: StorageTables, tenantId: string): AsyncGenerator<GroupRecord> {
  const filter = `PartitionKey ge ${odata(`${tenantId}|`)} and PartitionKey lt ${odata(tenantRangeEnd(tenantId))}`;
  for await (const entity of queryRows(tables.groups, filter)) {
    yield decodeGroup(tenantId, entity);
  }
}
