// How long does one group assignment take on Azurite? Imports a tenant with one N-member security group, assigns
// Office 365 E3 + EMS through the product's application layer, and times the 202 → ProcessingComplete span with the
// product's own queue functions doing the work in an embedded host. Not a test: a measurement (npm run bench is
// the full benchmark).
import path from 'node:path';
import { Command } from 'commander';
import { createContext } from '../application/context.js';
import { createGroup } from '../application/directory.js';
import { assignGroupLicenses, processingDetails } from '../application/group-licensing.js';
import { importDirectory } from '../application/import.js';
import { observeTenant } from '../application/tenant-snapshot.js';
import { createTenant, setSubscription } from '../application/tenants.js';
import { startAzurite } from '../host/azurite.js';
import { startHost } from '../host/host.js';
import { judgeObservedTenant } from '../simulator/oracle.js';
import { resetStorageStats, storageStats, storageStatsEnabled } from '../storage/stats.js';

const program = new Command()
  .name('time-assignment')
  .description(
    'Times a group license assignment of N members on a local Azurite, through the real queue functions.',
  )
  .option('--members <n>', 'members in the group', '10000')
  .parse();

async function main(): Promise<void> {
  const members = Number(program.opts<{ members: string }>().members);
  const azurite = await startAzurite({ inMemory: true });
  const prefix = 'time';
  const env = {
    AzureWebJobsStorage: azurite.connectionString,
    STORAGE_PREFIX: prefix,
    ADMIN_API_KEY: 'timing',
    GRAPH_TOKEN_SIGNING_KEY: 'timing-signing-key-0123456789abcdef0123',
    FUNCTIONS_LOG_INVOCATIONS: 'false',
  };
  const ctx = createContext({ storage: azurite.connectionString, storagePrefix: prefix });
  await ctx.ready;
  const host = await startHost({
    appDir: path.resolve(__dirname, '..', '..', '..'),
    port: 0,
    env,
    createQueues: true,
    logInvocations: false,
    logSink: () => {},
  });
  try {
    const tenant = await createTenant(ctx, { displayName: 'Timing', countryLetterCode: 'US' });
    const units = { enabled: members, warning: 0, suspended: 0, lockedOut: 0 };
    const e3 = await setSubscription(ctx, tenant.id, 'ENTERPRISEPACK', units);
    const ems = await setSubscription(ctx, tenant.id, 'EMS', units);
    const group = await createGroup(ctx, tenant.id, {
      displayName: 'Everyone',
      mailNickname: 'everyone',
      securityEnabled: true,
      mailEnabled: false,
    });
    const imported = Date.now();
    await importDirectory(
      ctx,
      tenant.id,
      (async function* () {
        for (let i = 0; i < members; i++) {
          yield {
            line: i + 1,
            value: {
              type: 'user',
              userPrincipalName: `user${i}@timing.test`,
              displayName: `User ${i}`,
              usageLocation: 'US',
              memberOf: [group.id],
            },
          };
        }
      })(),
    );
    console.log(
      `imported ${members} members in ${((Date.now() - imported) / 1000).toFixed(1)} s (not timed below)`,
    );

    resetStorageStats();
    const started = Date.now();
    await assignGroupLicenses(ctx, tenant.id, group.id, {
      addLicenses: [
        { skuId: e3.skuId, disabledPlans: [] },
        { skuId: ems.skuId, disabledPlans: [] },
      ],
      removeLicenses: [],
    });
    for (;;) {
      const details = await processingDetails(ctx, tenant.id, group.id);
      if (details.state === 'ProcessingComplete') break;
      if (Date.now() - started > 30 * 60_000) throw new Error('gave up after 30 minutes');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (Date.now() - started) / 1000;
    if (storageStatsEnabled()) console.log('storage operations during the assignment:', storageStats());
    const violations = judgeObservedTenant(await observeTenant(ctx, tenant.id));
    console.log(
      `${members} members: 202 → ProcessingComplete in ${seconds.toFixed(2)} s (${Math.round(members / seconds)} members/s); invariant violations: ${violations.length}`,
    );
    if (violations.length > 0) process.exitCode = 1;
  } finally {
    await host.stop();
    await azurite.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
