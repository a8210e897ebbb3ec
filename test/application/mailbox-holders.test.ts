// Who holds a shared proxy address (src/application/principal-updates.ts: mailboxHolder, recheckMailboxRefusals) on
// the in-memory ports: a holder whose row still has its mailbox keeps the address; one held for nothing — its
// claim's work died, its row has no mailbox — is let go, and with automatic healing the other users listing the
// address are evaluated again (rules.md §3.3). The Table adapter keeps the same contract (test/storage/proxies.test.ts).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChangesMessage } from '../../src/application/messages.js';
import {
  type MailboxPorts,
  mailboxHolder,
  recheckMailboxRefusals,
} from '../../src/application/principal-updates.js';
import type { LicenseErrorHealing } from '../../src/engine/index.js';
import {
  InMemoryDirectoryStore,
  InMemoryProxyAddresses,
  InMemoryTenantStore,
  RecordingQueues,
} from '../support/in-memory-stores.js';
import { principalRecord, tenantRecord } from '../support/records.js';

const now = new Date('2026-03-01T10:00:00.000Z');
const address = 'smtp:shared@contoso.com';

async function setUp(licenseErrorHealing: LicenseErrorHealing = 'automatic') {
  const ports = {
    proxies: new InMemoryProxyAddresses(),
    directory: new InMemoryDirectoryStore(),
    tenants: new InMemoryTenantStore(),
    queues: new RecordingQueues(),
    now: () => now,
  } satisfies MailboxPorts;
  const tenantId = randomUUID();
  await ports.tenants.create(tenantRecord(tenantId, { licenseErrorHealing }));
  /** A user listing the shared address, with or without a working mailbox on its row. */
  const user = async (mailboxActive: boolean) => {
    const record = await ports.directory.createPrincipal({
      ...principalRecord(tenantId, {
        displayName: `User ${randomUUID().slice(0, 8)}`,
        proxyAddresses: ['SMTP:shared@contoso.com'],
      }),
      mailboxActive,
      sharedProxy: true,
    });
    await ports.proxies.register(tenantId, record.id, [], [address]);
    return record.id;
  };
  const evaluated = () =>
    ports.queues
      .to('changes')
      .flatMap((m) =>
        (m as ChangesMessage).changes.flatMap((c) => (c.type === 'evaluate' ? c.principalIds : [])),
      );
  return { ports, tenantId, user, evaluated };
}

/** A claim whose work is over (its lease ran out an hour ago). */
const deadTicket = () => ({ id: randomUUID(), until: new Date(now.getTime() - 3_600_000).toISOString() });
const liveTicket = () => ({ id: randomUUID(), until: new Date(now.getTime() + 3_600_000).toISOString() });

describe('who holds a shared address', () => {
  it('keeps the holder whose row has its mailbox, and wakes nobody', async () => {
    const { ports, tenantId, user, evaluated } = await setUp();
    const holder = await user(true);
    await user(false);
    await ports.proxies.claim(tenantId, address, holder, deadTicket(), now);
    expect(await mailboxHolder(ports, tenantId, address)).toBe(holder);
    expect(evaluated()).toEqual([]);
  });

  it('keeps a holder whose claim is still in flight, even before its row has the mailbox', async () => {
    const { ports, tenantId, user } = await setUp();
    const holder = await user(false);
    await user(false);
    await ports.proxies.claim(tenantId, address, holder, liveTicket(), now);
    expect(await mailboxHolder(ports, tenantId, address)).toBe(holder);
  });

  it('lets go a holder held for nothing and evaluates the other users listing the address again', async () => {
    const { ports, tenantId, user, evaluated } = await setUp();
    const died = await user(false);
    const waiting = await user(false);
    await ports.proxies.claim(tenantId, address, died, deadTicket(), now);
    expect(await mailboxHolder(ports, tenantId, address)).toBeNull();
    expect(evaluated()).toEqual([waiting]);
    expect((await ports.proxies.read(tenantId, address)).holder).toBeNull();
  });

  it('lets go but queues nothing when the tenant heals license errors by hand', async () => {
    const { ports, tenantId, user, evaluated } = await setUp('manual');
    const died = await user(false);
    await user(false);
    await ports.proxies.claim(tenantId, address, died, deadTicket(), now);
    expect(await mailboxHolder(ports, tenantId, address)).toBeNull();
    expect(evaluated()).toEqual([]);
  });

  it('evaluates again users refused a mailbox whose addresses nobody holds any more (the sweep)', async () => {
    const { ports, tenantId, user, evaluated } = await setUp();
    const holder = await user(true);
    const refused = await user(false);
    await ports.proxies.claim(tenantId, address, holder, deadTicket(), now);
    // While the holder keeps its mailbox, the refusal stands.
    expect(await recheckMailboxRefusals(ports, tenantId, new Map([[refused, [address]]]))).toBe(0);
    // Its mailbox gone (a license removed), the address is let go and the refused user is evaluated again.
    const row = await ports.directory.principal(tenantId, holder);
    if (!row) throw new Error('no holder row');
    ports.directory.putPrincipal({ ...row, mailboxActive: false });
    expect(await recheckMailboxRefusals(ports, tenantId, new Map([[refused, [address]]]))).toBe(1);
    expect(evaluated()).toEqual([refused]);
  });
});
