// Shared setup for the storage-and-queue pipeline tests: one in-process host of the product app per test file
// (queue names are fixed when the app loads, so each file gets its own storage prefix), a tenant per test.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { createContext, type StorageContext } from '../../src/application/context.js';
import { createGroup } from '../../src/application/directory.js';
import { assignGroupLicenses } from '../../src/application/group-licensing.js';
import { importDirectory } from '../../src/application/import.js';
import type { DirectoryAudit } from '../../src/application/records.js';
import { isIdle, observeTenant } from '../../src/application/tenant-snapshot.js';
import { createTenant, listSubscriptions, setSubscription } from '../../src/application/tenants.js';
import type { LicenseErrorHealing } from '../../src/engine/index.js';
import { type RunningHost, startHost } from '../../src/host/host.js';
import { judgeObservedTenant, type OracleDifference } from '../../src/simulator/oracle.js';
import { repoRoot, uniqueName, waitFor } from '../support/index.js';

export interface Pipeline {
  readonly ctx: StorageContext;
  readonly host: RunningHost;
  readonly prefix: string;
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export function productEnv(
  prefix: string,
  storage = inject('storageConnectionString'),
): Record<string, string> {
  return {
    AzureWebJobsStorage: storage,
    STORAGE_PREFIX: prefix,
    ADMIN_API_KEY: 'test-admin-key',
    GRAPH_TOKEN_SIGNING_KEY: 'test-signing-key-0123456789abcdef0123456789',
    FUNCTIONS_LOG_INVOCATIONS: 'false',
    AzureFunctionsWebHost__hostid: prefix,
  };
}

/**
 * The pipeline of a test file: started before its first test, stopped after its last (`beforeAll`/`afterAll`).
 * Usage, at the top of a file: `const pipeline = usePipeline();` then `pipeline.ctx` inside tests.
 */
export function usePipeline(): Pipeline {
  let started: Pipeline | undefined;
  beforeAll(async () => {
    started = await startPipeline();
  });
  afterAll(async () => {
    await started?.stop();
  });
  const current = (): Pipeline => {
    if (!started) throw new Error('The pipeline is not started: use it inside a test.');
    return started;
  };
  return {
    get ctx() {
      return current().ctx;
    },
    get host() {
      return current().host;
    },
    get prefix() {
      return current().prefix;
    },
    get env() {
      return current().env;
    },
    stop: () => current().stop(),
  };
}

/** Every audit record of the tenant, newest first, paged through the listing the Graph API serves. */
export async function* auditRecords(ctx: StorageContext, tenantId: string): AsyncGenerator<DirectoryAudit> {
  let continuation: string | undefined;
  do {
    const page = await ctx.queries.audits(tenantId, [], {
      top: 500,
      ...(continuation ? { continuation } : {}),
    });
    yield* page.items;
    continuation = page.continuation;
  } while (continuation);
}

/** The seats of a SKU the tenant's subscription counts as consumed (-1 when it has no such subscription). */
export async function consumedUnits(ctx: StorageContext, tenantId: string, skuId: string): Promise<number> {
  return (await listSubscriptions(ctx, tenantId)).find((s) => s.skuId === skuId)?.consumedUnits ?? -1;
}

/** Starts the product's functions in this process against the shared Azurite, with a fresh storage prefix. */
export async function startPipeline(): Promise<Pipeline> {
  const prefix = uniqueName('p');
  const env = productEnv(prefix);
  const ctx = createContext({
    storage: env.AzureWebJobsStorage ?? '',
    storagePrefix: prefix,
  });
  await ctx.ready;
  const host = await startHost({
    appDir: repoRoot,
    port: 0,
    env,
    createQueues: true,
    logInvocations: false,
    logSink: () => {},
  });
  return { ctx, host, prefix, env, stop: () => host.stop() };
}

export async function newTenant(
  ctx: StorageContext,
  options: { country?: string; healing?: LicenseErrorHealing } = {},
): Promise<string> {
  const tenant = await createTenant(ctx, {
    displayName: `Tenant ${randomUUID().slice(0, 8)}`,
    countryLetterCode: options.country ?? 'US',
    licenseErrorHealing: options.healing ?? 'automatic',
  });
  return tenant.id;
}

export async function buy(
  ctx: StorageContext,
  tenantId: string,
  partNumber: string,
  units: number,
): Promise<string> {
  const sub = await setSubscription(ctx, tenantId, partNumber, {
    enabled: units,
    warning: 0,
    suspended: 0,
    lockedOut: 0,
  });
  return sub.skuId;
}

export function skuId(ctx: StorageContext, partNumber: string): string {
  const sku = ctx.catalog.skuByPartNumber(partNumber);
  if (!sku) throw new Error(`no SKU ${partNumber}`);
  return sku.skuId;
}

export function planId(ctx: StorageContext, partNumber: string, planName: string): string {
  const sku = ctx.catalog.skuByPartNumber(partNumber);
  const plan = [...(sku?.planNames ?? [])].find(([, name]) => name === planName);
  if (!plan) throw new Error(`no plan ${planName} in ${partNumber}`);
  return plan[0];
}

export interface UserSpec {
  readonly usageLocation?: string | null;
  readonly proxyAddresses?: readonly string[];
  readonly memberOf?: readonly string[];
  readonly department?: string;
}

/** Imports users (and the groups they belong to, given by id) through the bulk import; returns their ids. */
/** A security group (the kind that may carry user licenses). */
export async function securityGroup(ctx: StorageContext, tenantId: string, name: string) {
  return createGroup(ctx, tenantId, {
    displayName: name,
    mailNickname: name.replace(/\W/g, ''),
    securityEnabled: true,
    mailEnabled: false,
  });
}

/** A security group of `members` new users that carries `skuId`, processed to the end. */
export async function licensedGroup(
  ctx: StorageContext,
  tenantId: string,
  name: string,
  skuId: string,
  members: number,
) {
  const group = await securityGroup(ctx, tenantId, name);
  const users = await importUsers(ctx, tenantId, members, { memberOf: [group.id] });
  await assignGroupLicenses(ctx, tenantId, group.id, {
    addLicenses: [{ skuId, disabledPlans: [] }],
    removeLicenses: [],
  });
  await waitIdle(ctx, tenantId);
  return { group, users };
}

export async function importUsers(
  ctx: StorageContext,
  tenantId: string,
  count: number,
  spec: UserSpec | ((i: number) => UserSpec) = {},
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  async function* lines() {
    for (let i = 0; i < count; i++) {
      const s = typeof spec === 'function' ? spec(i) : spec;
      yield {
        line: i + 1,
        value: {
          type: 'user',
          id: ids[i],
          userPrincipalName: `user${i}.${ids[i]?.slice(0, 8)}@contoso.test`,
          displayName: `User ${i}`,
          usageLocation: s.usageLocation === undefined ? 'US' : s.usageLocation,
          ...(s.proxyAddresses ? { proxyAddresses: s.proxyAddresses } : {}),
          ...(s.memberOf ? { memberOf: s.memberOf } : {}),
          ...(s.department === undefined ? {} : { department: s.department }),
        },
      };
    }
  }
  const result = await importDirectory(ctx, tenantId, lines());
  expect(result.errors).toEqual([]);
  return ids;
}

/** Waits until the queues are drained and no group is processing. */
export async function waitIdle(ctx: StorageContext, tenantId: string, timeoutMs = 60_000): Promise<void> {
  let idleSince = 0;
  await waitFor(
    async () => {
      if (!(await isIdle(ctx, tenantId))) {
        idleSince = 0;
        return false;
      }
      // Idle twice in a row, a moment apart: a handler may be between two queue messages.
      if (idleSince === 0) idleSince = Date.now();
      return Date.now() - idleSince > 600;
    },
    { timeoutMs, intervalMs: 150, message: `tenant ${tenantId} did not become idle` },
  );
}

/**
 * What the simulator's oracle finds wrong with the tenant as the service stores it (none when the rules allow it):
 * the directory, memberships and assignments the service recorded, judged apart from the engine that produced the
 * licenses (src/simulator/oracle.ts).
 */
export async function invariantViolations(
  ctx: StorageContext,
  tenantId: string,
): Promise<OracleDifference[]> {
  return judgeObservedTenant(await observeTenant(ctx, tenantId));
}
