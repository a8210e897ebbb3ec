// App registrations and the authority's signing key, in the `identity` table (src/storage/README.md):
// `{tenant}` / `app|{appId}` — one row per app registration, its secrets stored as hashes;
// `~authority` / `signingKey` — the RSA key every instance signs tokens with (created once, by whoever is first).
import type { TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { StorageContentionError } from '../application/errors.js';
import type { IdentityStore } from '../application/ports.js';
import type {
  ApplicationRecord,
  PasswordCredentialRecord,
  SigningKeyRecord,
} from '../application/records.js';
import {
  getJson,
  getRow,
  hasStatus,
  isConflict,
  putJson,
  queryRows,
  type RawEntity,
  requireJson,
  requireString,
} from './properties.js';

export type { ApplicationRecord, PasswordCredentialRecord, SigningKeyRecord };

const AUTHORITY_PARTITION = '~authority';
const SIGNING_KEY_ROW = 'signingKey';
const appRow = (appId: string) => `app|${appId}`;

const passwordsSchema = z.array(
  z.object({
    keyId: z.string(),
    displayName: z.string().nullable(),
    hint: z.string(),
    secretHash: z.string(),
    startDateTime: z.string(),
    endDateTime: z.string(),
  }),
);
const rolesSchema = z.array(z.string());
const jwkSchema = z.record(z.string(), z.unknown());

function encodeApplication(app: ApplicationRecord): Record<string, unknown> & {
  partitionKey: string;
  rowKey: string;
} {
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: app.tenantId,
    rowKey: appRow(app.appId),
    objectId: app.id,
    displayName: app.displayName,
    createdDateTime: app.createdDateTime,
  };
  putJson(entity, 'roles', app.roles);
  putJson(entity, 'passwords', app.passwordCredentials);
  return entity;
}

function decodeApplication(entity: RawEntity): ApplicationRecord {
  return {
    tenantId: entity.partitionKey,
    appId: entity.rowKey.slice(appRow('').length),
    id: requireString(entity, 'objectId'),
    displayName: requireString(entity, 'displayName'),
    roles: requireJson(entity, 'roles', rolesSchema),
    passwordCredentials: getJson(entity, 'passwords', passwordsSchema, []),
    createdDateTime: requireString(entity, 'createdDateTime'),
    ...(entity.etag ? { etag: entity.etag } : {}),
  };
}

export class TableIdentityStore implements IdentityStore {
  constructor(private readonly table: TableClient) {}

  async createApplication(app: ApplicationRecord): Promise<void> {
    await this.table.createEntity(encodeApplication(app));
  }

  async readApplication(tenantId: string, appId: string): Promise<ApplicationRecord | undefined> {
    const row = await getRow(this.table, tenantId, appRow(appId));
    return row ? decodeApplication(row) : undefined;
  }

  async listApplications(tenantId: string): Promise<ApplicationRecord[]> {
    const apps: ApplicationRecord[] = [];
    const filter = `PartitionKey eq '${tenantId}' and RowKey ge 'app|' and RowKey lt 'app|~'`;
    for await (const row of queryRows(this.table, filter)) apps.push(decodeApplication(row));
    return apps.sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime));
  }

  /** Replaces the row only if nobody changed it since it was read (its ETag). */
  async replaceApplication(app: ApplicationRecord): Promise<void> {
    if (!app.etag) throw new Error('replaceApplication needs the row as read (with its ETag)');
    try {
      await this.table.updateEntity(encodeApplication(app), 'Replace', { etag: app.etag });
    } catch (error: unknown) {
      // Another request changed it meanwhile: the caller is told to retry (503, Retry-After).
      if (isConflict(error)) throw new StorageContentionError(`Updating application ${app.appId}`, 1);
      throw error;
    }
  }

  /** False when there was nothing to delete. */
  async deleteApplication(tenantId: string, appId: string): Promise<boolean> {
    try {
      await this.table.deleteEntity(tenantId, appRow(appId));
      return true;
    } catch (error: unknown) {
      if (hasStatus(error, 404)) return false;
      throw error;
    }
  }

  async readSigningKey(): Promise<SigningKeyRecord | undefined> {
    const row = await getRow(this.table, AUTHORITY_PARTITION, SIGNING_KEY_ROW);
    if (!row) return undefined;
    return {
      kid: requireString(row, 'kid'),
      privateJwk: requireJson(row, 'jwk', jwkSchema),
      createdDateTime: requireString(row, 'createdDateTime'),
    };
  }

  /**
   * Stores the key unless one exists, and returns the one that is stored: instances starting at once each make a
   * key, the first insert wins and the others adopt it.
   */
  async createSigningKey(key: SigningKeyRecord): Promise<SigningKeyRecord> {
    const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey: AUTHORITY_PARTITION,
      rowKey: SIGNING_KEY_ROW,
      kid: key.kid,
      createdDateTime: key.createdDateTime,
    };
    putJson(entity, 'jwk', key.privateJwk);
    try {
      await this.table.createEntity(entity);
      return key;
    } catch (error: unknown) {
      if (!isConflict(error)) throw error;
      const stored = await this.readSigningKey();
      if (!stored) throw error;
      return stored;
    }
  }
}
