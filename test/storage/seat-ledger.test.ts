// The seat ledger port (src/storage/README.md, "Seats"): one suite against the Table adapter on a real Azurite and
// against the in-memory double. Claims never exceed the seats owned, also with claimers on several hosts at once;
// give-backs return seats once their chunk landed; a crashed run is resumed exactly from its markers. Chunks land
// through the principal writes port (a chunk of no rows is just its marker), and markers are read back through the
// directory store, so the suite speaks only the ports.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DirectoryStore,
  PrincipalWrites,
  SeatReservations,
  TenantStore,
} from '../../src/application/ports.js';
import type { ChunkPlan, SubscriptionRecord, TenantPartition } from '../../src/application/records.js';
import { loadCatalog } from '../../src/catalog/load.js';
import { totalUnits } from '../../src/engine/index.js';
import { TableDirectoryStore } from '../../src/storage/directory-store.js';
import { principalShardPartition } from '../../src/storage/keys.js';
import { backoff } from '../../src/storage/optimistic.js';
import { PrincipalWriter } from '../../src/storage/principal-writer.js';
import { markerRow, ReservationBusyError, SeatLedger } from '../../src/storage/seat-ledger.js';
import type { StorageTables } from '../../src/storage/tables.js';
import { readTenantPartition, TableTenantStore } from '../../src/storage/tenant-records.js';
import { DirectoryRows } from '../support/in-memory-rows.js';
import { InMemoryPrincipalWrites, InMemorySeatReservations } from '../support/in-memory-seats.js';
import { InMemoryDirectoryStore, InMemoryTenantStore } from '../support/in-memory-stores.js';
import { tenantRecord } from '../support/records.js';
import { type ScratchTables, scratchTables } from '../support/tables.js';

const when = '2026-03-01T10:00:00.000Z';
const catalog = loadCatalog();

let scratch: ScratchTables;
let tables: StorageTables;

beforeAll(async () => {
  scratch = await scratchTables('ledger', (t) => [t.tenants, ...t.allPrincipalTables()]);
  tables = scratch.tables;
});
afterAll(async () => {
  await scratch?.drop();
});

/** What one host instance holds: its own ledger (its runs, its remembered counters) and its own clients. */
interface Host {
  readonly ledger: SeatReservations;
  readonly tenants: TenantStore;
}

interface World extends Host {
  /** Lands chunks as the principal writer does. */
  readonly writer: PrincipalWrites;
  /** Reads markers back. */
  readonly directory: DirectoryStore;
  anotherHost(): Host;
}

function chunk(
  tenantId: string,
  key: string,
  shard: number,
  gains: Record<string, number>,
  loses: Record<string, number> = {},
): ChunkPlan {
  return { key, partition: principalShardPartition(tenantId, shard), gains, loses };
}

function contract(name: string, setUp: () => Promise<World>) {
  let world: World;
  beforeAll(async () => {
    world = await setUp();
  });

  /** A tenant with one subscription of `units` seats, `consumed` of them taken. */
  async function tenantWith(units: number, consumed = 0): Promise<{ tenantId: string; sku: string }> {
    const tenantId = randomUUID();
    const sku = randomUUID();
    await world.tenants.create(tenantRecord(tenantId));
    await world.tenants.saveSubscription(tenantId, {
      skuId: sku,
      prepaidUnits: { enabled: units, warning: 0, suspended: 0, lockedOut: 0 },
      consumedUnits: consumed,
      createdDateTime: when,
    });
    return { tenantId, sku };
  }

  async function partitionOf(on: Host, tenantId: string): Promise<TenantPartition> {
    const partition = await on.tenants.partition(tenantId);
    if (!partition) throw new Error(`tenant ${tenantId} not found`);
    return partition;
  }

  async function subscriptionOf(tenantId: string, sku: string): Promise<SubscriptionRecord> {
    const sub = (await partitionOf(world, tenantId)).subscriptions.get(sku);
    if (!sub) throw new Error(`subscription ${sku} not found`);
    return sub;
  }

  const reservationOf = async (tenantId: string, id: string) =>
    (await partitionOf(world, tenantId)).reservations.get(id);

  const readSubscriptions = (on: Host, tenantId: string) => async () =>
    (await partitionOf(on, tenantId)).subscriptions;

  /** What the principal writer does when a chunk lands: its marker, in the chunk's partition. */
  async function land(plan: ChunkPlan): Promise<void> {
    const [outcome] = await world.writer.write([{ plan, writes: [] }], true);
    expect(outcome?.landed).toBe(true);
  }

  async function hasMarker(tenantId: string, plan: ChunkPlan): Promise<boolean> {
    const shard = Number.parseInt(plan.partition.slice(tenantId.length + 1), 16);
    const { markers } = await world.directory.principalShardsWithMarkers(tenantId, shard, shard + 1);
    return markers.get(plan.partition)?.includes(markerRow(plan.key)) ?? false;
  }

  /**
   * A worker the way updatePrincipals drives the ledger: evaluate against `Total − consumedUnits`, claim what it
   * grants, re-read and re-evaluate on a conflict; stop once there is no room. Returns the seats it was granted.
   */
  async function claimUpTo(
    on: Host,
    tenantId: string,
    sku: string,
    want: number,
    run: string,
  ): Promise<number> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const partition = await partitionOf(on, tenantId);
      const sub = partition.subscriptions.get(sku);
      if (!sub) throw new Error('no subscription');
      const take = Math.min(want, totalUnits(sub.prepaidUnits) - sub.consumedUnits);
      if (take <= 0) return 0;
      const open = await on.ledger.open(partition, run, `host/${run}`, new Date());
      const plan = chunk(tenantId, `${run}.${attempt}.0`, attempt % 256, { [sku]: take });
      const claim = await on.ledger.claim(tenantId, partition.subscriptions, open, [plan], new Date());
      if (claim.outcome === 'claimed') {
        await on.ledger.close(tenantId, open, [plan], readSubscriptions(on, tenantId));
        return take;
      }
      await backoff(Math.min(attempt, 3));
    }
    throw new Error(`run ${run} never got an answer`);
  }

  describe(`SeatReservations: ${name}`, () => {
    it('never grants more seats than the tenant owns, with claimers on several hosts at once', async () => {
      const { tenantId, sku } = await tenantWith(50);
      // Six hosts, each with its own ledger and clients, eight concurrent runs each wanting three seats: 144 wanted.
      const hosts = Array.from({ length: 6 }, () => world.anotherHost());
      const granted = await Promise.all(
        hosts.flatMap((on, h) =>
          Array.from({ length: 8 }, (_, r) => claimUpTo(on, tenantId, sku, 3, `run-${h}-${r}`)),
        ),
      );
      const total = granted.reduce((a, b) => a + b, 0);
      // Every seat went to exactly one run: over-granting would show more granted than counted.
      expect(total).toBe(50);
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(50);
      expect((await partitionOf(world, tenantId)).reservations.size).toBe(0);
    }, 30_000);

    it('refuses a claim beyond the seats left, and claims nothing of it', async () => {
      const { tenantId, sku } = await tenantWith(5, 4);
      const ledger = world.ledger;
      const partition = await partitionOf(world, tenantId);
      const open = await ledger.open(partition, 'r1', 'host/r1', new Date());
      const claim = await ledger.claim(
        tenantId,
        partition.subscriptions,
        open,
        [chunk(tenantId, 'r1.0.0', 1, { [sku]: 2 })],
        new Date(),
      );
      expect(claim.outcome).toBe('conflict');
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(4);
      expect(await reservationOf(tenantId, 'r1')).toBeUndefined();
    });

    it('gives seats back only when the releasing chunk has landed, not to the same batch', async () => {
      const { tenantId, sku } = await tenantWith(5, 5);
      const ledger = world.ledger;
      let partition = await partitionOf(world, tenantId);
      let open = await ledger.open(partition, 'swap', 'host/swap', new Date());
      // One principal gives a seat up while another of the same batch would take it: the counter is full, so the
      // taker must wait until the release is written and given back.
      const swap = [
        chunk(tenantId, 'swap.0.0', 1, {}, { [sku]: 1 }),
        chunk(tenantId, 'swap.0.1', 2, { [sku]: 1 }),
      ];
      expect((await ledger.claim(tenantId, partition.subscriptions, open, swap, new Date())).outcome).toBe(
        'conflict',
      );

      const release = chunk(tenantId, 'swap.1.0', 1, {}, { [sku]: 1 });
      const claim = await ledger.claim(tenantId, partition.subscriptions, open, [release], new Date());
      expect(claim.outcome).toBe('claimed');
      // Recorded, not yet given back: the release has not been written.
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(5);
      expect((await reservationOf(tenantId, 'swap'))?.chunks).toEqual([release]);
      await land(release);
      await ledger.close(tenantId, open, [release], readSubscriptions(world, tenantId));
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(4);
      expect(await reservationOf(tenantId, 'swap')).toBeUndefined();

      // Now the taker has its seat.
      partition = await partitionOf(world, tenantId);
      open = await ledger.open(partition, 'take', 'host/take', new Date());
      const take = chunk(tenantId, 'take.0.0', 2, { [sku]: 1 });
      expect((await ledger.claim(tenantId, partition.subscriptions, open, [take], new Date())).outcome).toBe(
        'claimed',
      );
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(5);
    });

    it('keeps the counter exact with claims and give-backs from several hosts at once', async () => {
      const { tenantId, sku } = await tenantWith(20, 20);
      const release = async (on: Host, run: string) => {
        const { ledger } = on;
        const partition = await partitionOf(on, tenantId);
        const open = await ledger.open(partition, run, `host/${run}`, new Date());
        const plan = chunk(tenantId, `${run}.0.0`, 3, {}, { [sku]: 1 });
        const claim = await ledger.claim(tenantId, partition.subscriptions, open, [plan], new Date());
        expect(claim.outcome).toBe('claimed');
        await ledger.close(tenantId, open, [plan], readSubscriptions(on, tenantId));
      };
      // A claimer waits for a seat to come free (a waiter being promoted), then takes exactly one.
      const claimOne = async (on: Host, run: string) => {
        for (let i = 0; i < 400; i++) {
          if ((await claimUpTo(on, tenantId, sku, 1, `${run}.${i}`)) === 1) return;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        throw new Error(`${run} never got a seat`);
      };
      const work = Array.from({ length: 4 }, (_, h) => {
        const on = world.anotherHost();
        return Array.from({ length: 3 }, (_, r) => [
          release(on, `give-${h}-${r}`),
          claimOne(on, `take-${h}-${r}`),
        ]).flat();
      }).flat();
      await Promise.all(work);
      // Twelve seats given back, twelve taken: full again, never over.
      const sub = await subscriptionOf(tenantId, sku);
      expect(sub.consumedUnits).toBe(20);
      expect((await partitionOf(world, tenantId)).reservations.size).toBe(0);
    }, 30_000);

    it('resumes a crashed run from its markers: landed releases settled once, unlanded claims reused', async () => {
      const { tenantId, sku } = await tenantWith(10, 5);
      const first = world.ledger;
      const partition = await partitionOf(world, tenantId);
      const open = await first.open(partition, 'msg-1', 'host-a/msg-1', new Date());
      const gains = chunk(tenantId, 'msg-1.0.0', 10, { [sku]: 2 });
      const releases = chunk(tenantId, 'msg-1.0.1', 11, {}, { [sku]: 1 });
      const lost = chunk(tenantId, 'msg-1.0.2', 12, { [sku]: 3 });
      const claim = await first.claim(
        tenantId,
        partition.subscriptions,
        open,
        [gains, releases, lost],
        new Date(),
      );
      expect(claim.outcome).toBe('claimed');
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(10);
      // The host dies after two chunks landed; the third never did.
      await land(gains);
      await land(releases);

      // The redelivered message runs on another host, with the same reservation id.
      const on = world.anotherHost();
      const second = on.ledger;
      const resumed = await second.open(await partitionOf(on, tenantId), 'msg-1', 'host-b/msg-1', new Date());
      expect(resumed.unusedGains).toEqual({ [sku]: 3 });
      expect(resumed.settledLoses).toEqual({ [sku]: 1 });
      expect(resumed.landedMarkers.map((m) => m.key).sort()).toEqual(['msg-1.0.0', 'msg-1.0.1']);

      // It re-plans the unlanded principals: their three seats are reused, not claimed again (the counter is full).
      const again = chunk(tenantId, 'msg-1.1.0', 12, { [sku]: 3 });
      const current = await partitionOf(on, tenantId);
      expect(
        (await second.claim(tenantId, current.subscriptions, resumed, [again], new Date())).outcome,
      ).toBe('claimed');
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(10);
      await land(again);
      await second.close(tenantId, resumed, [again], readSubscriptions(on, tenantId));
      // 5 + 2 + 3 granted − 1 released.
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(9);
      expect(await reservationOf(tenantId, 'msg-1')).toBeUndefined();
    });

    it('gives back, with the next claim, seats reserved for chunks that did not land and are no longer needed', async () => {
      const { tenantId, sku } = await tenantWith(10, 0);
      const ledger = world.ledger;
      const partition = await partitionOf(world, tenantId);
      const open = await ledger.open(partition, 'msg-2', 'host/msg-2', new Date());
      const planned = chunk(tenantId, 'msg-2.0.0', 20, { [sku]: 4 });
      await ledger.claim(tenantId, partition.subscriptions, open, [planned], new Date());
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(4);

      // The chunk failed (a principal changed); re-evaluated, only one of its principals still needs a seat.
      const retry = await ledger.open(await partitionOf(world, tenantId), 'msg-2', 'host/msg-2', new Date());
      expect(retry.unusedGains).toEqual({ [sku]: 4 });
      const smaller = chunk(tenantId, 'msg-2.1.0', 20, { [sku]: 1 });
      const fresh = await partitionOf(world, tenantId);
      const claim = await ledger.claim(tenantId, fresh.subscriptions, retry, [smaller], new Date());
      expect(claim.outcome).toBe('claimed');
      expect(claim.returned).toEqual({ [sku]: 3 });
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(1);
      await ledger.close(tenantId, retry, [smaller], readSubscriptions(world, tenantId));
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(1);
    });

    it('lets the sweeper take over a reservation only once its lease has run out', async () => {
      const { tenantId, sku } = await tenantWith(10, 0);
      const ledger = world.ledger;
      const partition = await partitionOf(world, tenantId);
      const open = await ledger.open(partition, 'req', 'host-a/req', new Date());
      await ledger.claim(
        tenantId,
        partition.subscriptions,
        open,
        [chunk(tenantId, 'req.0.0', 30, { [sku]: 2 })],
        new Date(),
      );
      const now = await partitionOf(world, tenantId);
      await expect(
        ledger.open(now, 'req', 'sweeper', new Date(), { takeOver: false }),
      ).rejects.toBeInstanceOf(ReservationBusyError);
      const later = new Date(Date.now() + 13 * 60_000);
      const settled = await ledger.open(now, 'req', 'sweeper', later, { takeOver: false });
      expect(settled.unusedGains).toEqual({ [sku]: 2 });
    });

    it('leaves the counters to the run that took its reservation over', async () => {
      const { tenantId, sku } = await tenantWith(10, 5);
      const first = world.ledger;
      const partition = await partitionOf(world, tenantId);
      const open = await first.open(partition, 'msg-3', 'host-a/msg-3', new Date());
      const releases = chunk(tenantId, 'msg-3.0.0', 40, {}, { [sku]: 2 });
      await first.claim(tenantId, partition.subscriptions, open, [releases], new Date());
      await land(releases);

      // Host A is presumed dead; host B takes the message over and records itself as owner.
      const on = world.anotherHost();
      const second = on.ledger;
      const resumed = await second.open(await partitionOf(on, tenantId), 'msg-3', 'host-b/msg-3', new Date());
      const current = await partitionOf(on, tenantId);
      expect((await second.claim(tenantId, current.subscriptions, resumed, [], new Date())).outcome).toBe(
        'claimed',
      );
      // Host A was only slow: its close must not give the two seats back a second time.
      await first.close(tenantId, open, [releases], readSubscriptions(world, tenantId));
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(5);
      await second.close(tenantId, resumed, [], readSubscriptions(on, tenantId));
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(3);
    });

    it('fences the chunks it did not see land when it takes over a live run: a late chunk can no longer land', async () => {
      const { tenantId, sku } = await tenantWith(10, 0);
      const first = world.ledger;
      const partition = await partitionOf(world, tenantId);
      const open = await first.open(partition, 'msg-9', 'host-a/msg-9', new Date());
      const late = chunk(tenantId, 'msg-9.a-0.0', 50, { [sku]: 4 });
      expect((await first.claim(tenantId, partition.subscriptions, open, [late], new Date())).outcome).toBe(
        'claimed',
      );

      // Host A is only slow (its lease lapsed): host B takes the reservation over while A's chunk is in flight.
      const on = world.anotherHost();
      const second = on.ledger;
      const resumed = await second.open(await partitionOf(on, tenantId), 'msg-9', 'host-b/msg-9', new Date());
      expect(resumed.unusedGains).toEqual({ [sku]: 4 });
      // A's chunk arrives after the takeover counted it as not landed: it must not land, or its four seats would be
      // held by A's principals and by B's as well.
      const [outcome] = await world.writer.write([{ plan: late, writes: [] }], true);
      expect(outcome?.landed).toBe(false);
      // Opened again (A retrying, or a third delivery), the fenced chunk is still not landed.
      const again = await first.open(await partitionOf(world, tenantId), 'msg-9', 'host-a/msg-9', new Date());
      expect(again.unusedGains).toEqual({ [sku]: 4 });
      expect(again.landedMarkers).toEqual([]);

      // B re-plans the same four principals: the seats are reused, not claimed again, and the counter stays exact.
      const own = chunk(tenantId, 'msg-9.b-0.0', 50, { [sku]: 4 });
      const current = await partitionOf(on, tenantId);
      expect((await second.claim(tenantId, current.subscriptions, resumed, [own], new Date())).outcome).toBe(
        'claimed',
      );
      await land(own);
      await second.close(tenantId, resumed, [own], readSubscriptions(on, tenantId));
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(4);
      await first.close(tenantId, open, [], readSubscriptions(world, tenantId));
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(4);
      // The reservation is closed and its markers swept, but the fence stays for a lease: A may still send it.
      await first.removeStaleMarkers(tenantId, async () => new Set());
      const [later] = await world.writer.write([{ plan: late, writes: [] }], true);
      expect(later?.landed).toBe(false);
    });

    it('lets one run of a reservation work at a time in a process; the sweeper passes over a run under way', async () => {
      const ledger = world.ledger;
      const started: string[] = [];
      let finishFirst: () => void = () => undefined;
      const first = ledger.inTurn('tenant', 'msg-7', async () => {
        started.push('first');
        await new Promise<void>((resolve) => {
          finishFirst = resolve;
        });
        throw new Error('the first run failed');
      });
      // The same message delivered again while the first run works (its lease lapsed): it waits its turn.
      const second = ledger.inTurn('tenant', 'msg-7', async () => {
        started.push('second');
        return 'second';
      });
      expect(await ledger.ifIdle('tenant', 'msg-7', async () => 'sweeper')).toBeUndefined();
      expect(await ledger.inTurn('tenant', 'msg-8', async () => 'another reservation')).toBe(
        'another reservation',
      );
      expect(started).toEqual(['first']);

      finishFirst();
      await expect(first).rejects.toThrow('the first run failed');
      expect(await second).toBe('second');
      expect(started).toEqual(['first', 'second']);
      expect(await ledger.ifIdle('tenant', 'msg-7', async () => 'sweeper')).toBe('sweeper');
    });

    it('removes the markers of closed reservations, judging only those listed before it asks which are open', async () => {
      const { tenantId, sku } = await tenantWith(10, 0);
      const ledger = world.ledger;
      const claimAndLand = async (id: string, shard: number) => {
        const partition = await partitionOf(world, tenantId);
        const open = await ledger.open(partition, id, `host/${id}`, new Date());
        const plan = chunk(tenantId, `${id}.run-0.0`, shard, { [sku]: 1 });
        expect(
          (await ledger.claim(tenantId, partition.subscriptions, open, [plan], new Date())).outcome,
        ).toBe('claimed');
        await land(plan);
        return { open, plan };
      };
      const closed = await claimAndLand('closed', 60);
      await ledger.close(tenantId, closed.open, [closed.plan], readSubscriptions(world, tenantId));
      const stillOpen = await claimAndLand('open', 61);
      // The open reservations are read, then another worker opens one and lands a chunk: its marker is not among
      // those listed before the question, so the stale answer must not remove it.
      let late: ChunkPlan | undefined;
      const removed = await ledger.removeStaleMarkers(tenantId, async () => {
        const open = new Set((await partitionOf(world, tenantId)).reservations.keys());
        late = (await claimAndLand('late', 62)).plan;
        return open;
      });
      expect(removed).toBe(1);
      expect(await hasMarker(tenantId, closed.plan)).toBe(false);
      expect(await hasMarker(tenantId, stillOpen.plan)).toBe(true);
      if (!late) throw new Error('the reservation was not opened');
      expect(await hasMarker(tenantId, late)).toBe(true);
    });

    it('checks counters it remembers against a fresh read before refusing (seats bought since)', async () => {
      const { tenantId, sku } = await tenantWith(3, 0);
      expect(await claimUpTo(world, tenantId, sku, 3, 'fill')).toBe(3);
      // Three more seats bought, written with the row's ETag as setSubscription does.
      const sub = await subscriptionOf(tenantId, sku);
      await world.tenants.saveSubscription(tenantId, {
        ...sub,
        prepaidUnits: { ...sub.prepaidUnits, enabled: 6 },
      });
      // The ledger remembers 3 of 3 taken; the caller read 3 of 6.
      expect(await claimUpTo(world, tenantId, sku, 2, 'after-purchase')).toBe(2);
      expect((await subscriptionOf(tenantId, sku)).consumedUnits).toBe(5);
    });
  });
}

contract('Table adapter (real Azurite)', async () => ({
  ledger: new SeatLedger(tables),
  tenants: new TableTenantStore(tables),
  writer: new PrincipalWriter(tables, catalog),
  directory: new TableDirectoryStore(tables, catalog),
  anotherHost: () => {
    const on = scratch.anotherHost();
    return { ledger: new SeatLedger(on), tenants: new TableTenantStore(on) };
  },
}));

contract('in-memory double', async () => {
  const tenants = new InMemoryTenantStore();
  const rows = new DirectoryRows();
  return {
    ledger: new InMemorySeatReservations(tenants, rows),
    tenants,
    writer: new InMemoryPrincipalWrites(rows, catalog),
    directory: new InMemoryDirectoryStore(rows),
    // Another process: its own runs, the same rows.
    anotherHost: () => ({ ledger: new InMemorySeatReservations(tenants, rows), tenants }),
  };
});

describe('SeatLedger (real Azurite only)', () => {
  it('never removes the marker of a reservation opened while it lists the markers', async () => {
    const ledger = new SeatLedger(tables);
    const tenants = new TableTenantStore(tables);
    const writer = new PrincipalWriter(tables, catalog);
    const tenantId = randomUUID();
    const sku = randomUUID();
    await tenants.create(tenantRecord(tenantId));
    await tenants.saveSubscription(tenantId, {
      skuId: sku,
      prepaidUnits: { enabled: 10, warning: 0, suspended: 0, lockedOut: 0 },
      consumedUnits: 0,
      createdDateTime: when,
    });
    const partitionOf = async () => {
      const partition = await readTenantPartition(tables, tenantId);
      if (!partition) throw new Error(`tenant ${tenantId} not found`);
      return partition;
    };
    const claimAndLand = async (id: string, shard: number) => {
      const partition = await partitionOf();
      const open = await ledger.open(partition, id, `host/${id}`, new Date());
      const plan = chunk(tenantId, `${id}.run-0.0`, shard, { [sku]: 1 });
      expect((await ledger.claim(tenantId, partition.subscriptions, open, [plan], new Date())).outcome).toBe(
        'claimed',
      );
      expect((await writer.write([{ plan, writes: [] }], true))[0]?.landed).toBe(true);
      return plan;
    };
    const markerOf = (plan: ChunkPlan) =>
      tables.principalsFor(plan.partition).getEntity(plan.partition, markerRow(plan.key));
    // Another worker opens a reservation and lands a chunk while the sweeper's range query runs.
    let openedMeanwhile: ChunkPlan | undefined;
    const sweeping: StorageTables = Object.create(tables, {
      queryPrincipals: {
        value: async function* (filter: string) {
          openedMeanwhile = await claimAndLand('meanwhile', 62);
          yield* tables.queryPrincipals(filter);
        },
      },
    });
    const removed = await new SeatLedger(sweeping).removeStaleMarkers(
      tenantId,
      async () => new Set((await partitionOf()).reservations.keys()),
    );
    expect(removed).toBe(0);
    if (!openedMeanwhile) throw new Error('the reservation was not opened');
    await expect(markerOf(openedMeanwhile)).resolves.toBeDefined();
  });
});
