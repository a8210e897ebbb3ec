// The invariants of rules.md §7, checked from the outside once the tenant is idle: everything is read over HTTP
// (every user and device with its license entries, /subscribedSkus, the licensed groups and their members).
import {
  groupMembers,
  licensedGroups,
  listDevices,
  listUsers,
  type Principal,
  readGroupLicensing,
  subscribedSkus,
} from './graph.js';
import type { Scenario } from './run.js';

/** Does this entry hold a seat? Granted entries, and a source kept in `DependencyViolation` (rules.md §3). */
function holdsSeat(entry: Principal['licenseAssignmentStates'][number]): boolean {
  return entry.state === 'Active' || (entry.state === 'Error' && entry.error === 'DependencyViolation');
}

/** The principals under a group for device SKUs: its devices and those of every group nested in it (cycle-safe). */
async function devicesUnder(s: Scenario, groupId: string): Promise<Set<string>> {
  const devices = new Set<string>();
  const seen = new Set([groupId]);
  const pending = [groupId];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    for (const member of await groupMembers(s, id)) {
      if (member.type === 'device') devices.add(member.id);
      else if (member.type === 'group' && !seen.has(member.id)) {
        seen.add(member.id);
        pending.push(member.id);
      }
    }
  }
  return devices;
}

/**
 * Checks, when the tenant is idle:
 * - every licensed group's processing is complete;
 * - entries are well formed (`Active` ⇒ error `None`, `Error` ⇒ a reason, nobody listed holds `Disabled` entries,
 *   devices have no direct entries) and `assignedLicenses` are exactly the SKUs of seat-holding entries;
 * - §7.1 seats: per SKU, `consumedUnits` = principals holding a seat (an `Active` entry, or `Error` +
 *   `DependencyViolation`), and ≤ Total;
 * - §7.2 (automatic healing): nobody waits in `CountViolation` for a source whose every missing SKU has a seat
 *   available (a source of several SKUs waits for the ones it lacks);
 * - §7.4 coverage: every direct user member of a licensed group (every device under it, for device SKUs) has an
 *   entry for each SKU of the group, and nobody has an entry from a group it is not under (or that does not carry
 *   the SKU), except a `DependencyViolation` holding on.
 */
export async function checkInvariants(s: Scenario): Promise<void> {
  s.step('invariants of rules.md §7 (the tenant idle)');
  await s.settle();
  const users = await listUsers(s);
  const devices = await listDevices(s);
  const principals = [...users, ...devices];
  const deviceIds = new Set(devices.map((d) => d.id));
  const skus = await subscribedSkus(s);
  const groups = await licensedGroups(s);

  for (const group of groups) {
    const state = (await readGroupLicensing(s, group.id)).licenseProcessingState.state;
    if (state !== 'ProcessingComplete')
      s.fail(
        `licenseProcessingState of ${s.label(group.id)} while the tenant is idle`,
        'ProcessingComplete',
        state,
      );
  }

  const holders = new Map<string, number>();
  for (const principal of principals) {
    const who = `${deviceIds.has(principal.id) ? 'device' : 'user'} ${s.label(principal.id)}`;
    const held = new Set<string>();
    for (const entry of principal.licenseAssignmentStates) {
      const wellFormed =
        (entry.state === 'Active' && entry.error === 'None') ||
        (entry.state === 'Error' && entry.error !== 'None');
      if (!wellFormed)
        s.fail(
          `an entry of ${who} (${s.label(entry.skuId)} via ${s.label(entry.assignedByGroup)})`,
          'Active/None or Error/<reason>',
          `${entry.state}/${entry.error}`,
        );
      if (deviceIds.has(principal.id) && entry.assignedByGroup === null)
        s.fail(`the sources of ${who}`, 'group assignments only', `a direct ${s.label(entry.skuId)}`);
      if (holdsSeat(entry)) held.add(entry.skuId);
    }
    for (const skuId of held) holders.set(skuId, (holders.get(skuId) ?? 0) + 1);
    const effective = principal.assignedLicenses.map((l) => l.skuId).sort();
    if (effective.join() !== [...held].sort().join())
      s.fail(
        `assignedLicenses of ${who}`,
        [...held].sort().map((id) => s.label(id)),
        effective.map((id) => s.label(id)),
      );
  }

  // §7.1 seats
  for (const sku of skus.values()) {
    const total = sku.prepaidUnits.enabled + sku.prepaidUnits.warning;
    const holding = holders.get(sku.skuId) ?? 0;
    if (sku.consumedUnits !== holding)
      s.fail(
        `§7.1 consumedUnits of ${sku.skuPartNumber}`,
        `${holding} (principals holding a seat)`,
        sku.consumedUnits,
      );
    if (sku.consumedUnits > total)
      s.fail(`§7.1 consumedUnits of ${sku.skuPartNumber} within Total`, `≤ ${total}`, sku.consumedUnits);
  }
  for (const skuId of holders.keys())
    if (!skus.has(skuId))
      s.fail('§7.1 seats held of SKUs the tenant bought', [...skus.keys()], s.label(skuId));

  // §7.2 nobody waits beside a free seat
  if (s.tenant.licenseErrorHealing === 'automatic') {
    const available = (skuId: string) => {
      const sku = skus.get(skuId);
      return sku ? Math.max(0, sku.prepaidUnits.enabled + sku.prepaidUnits.warning - sku.consumedUnits) : 0;
    };
    for (const principal of principals) {
      const held = new Set(principal.licenseAssignmentStates.filter(holdsSeat).map((e) => e.skuId));
      const waiting = new Map<string, string[]>();
      for (const entry of principal.licenseAssignmentStates) {
        if (entry.error !== 'CountViolation' || held.has(entry.skuId)) continue;
        const source = entry.assignedByGroup ?? 'direct';
        waiting.set(source, [...(waiting.get(source) ?? []), entry.skuId]);
      }
      for (const [source, missing] of waiting) {
        if (missing.every((skuId) => available(skuId) > 0))
          s.fail(
            `§7.2 ${s.label(principal.id)} waits in CountViolation (${s.label(source)}) for ${missing.map((id) => s.label(id)).join(', ')}`,
            'no seat available',
            missing.map((id) => `${s.label(id)} Available ${available(id)}`),
          );
      }
    }
  }

  // §7.4 coverage
  const byId = new Map(principals.map((p) => [p.id, p]));
  const expected = new Set<string>(); // principal|group|sku
  for (const group of groups) {
    const userSkus = group.assignedLicenses.filter(
      (l) => s.catalog.skuById(l.skuId)?.assignableTo !== 'device',
    );
    const deviceSkus = group.assignedLicenses.filter(
      (l) => s.catalog.skuById(l.skuId)?.assignableTo === 'device',
    );
    const reached: [string, typeof userSkus][] = [];
    if (userSkus.length > 0) {
      const members = await groupMembers(s, group.id);
      for (const m of members) if (m.type === 'user') reached.push([m.id, userSkus]);
    }
    if (deviceSkus.length > 0)
      for (const id of await devicesUnder(s, group.id)) reached.push([id, deviceSkus]);
    for (const [id, licenses] of reached) {
      const principal = byId.get(id);
      if (!principal)
        s.fail(`§7.4 member ${id} of ${s.label(group.id)}`, 'listed in /users or /devices', 'missing');
      for (const license of licenses) {
        expected.add(`${id}|${group.id}|${license.skuId}`);
        if (
          !principal.licenseAssignmentStates.some(
            (e) => e.assignedByGroup === group.id && e.skuId === license.skuId,
          )
        )
          s.fail(
            `§7.4 the entries of ${s.label(id)}`,
            `an entry of ${s.label(license.skuId)} via ${s.label(group.id)}`,
            'none',
          );
      }
    }
  }
  for (const principal of principals) {
    for (const entry of principal.licenseAssignmentStates) {
      if (entry.assignedByGroup === null || entry.error === 'DependencyViolation') continue;
      if (!expected.has(`${principal.id}|${entry.assignedByGroup}|${entry.skuId}`))
        s.fail(
          `§7.4 the entry of ${s.label(entry.skuId)} via ${s.label(entry.assignedByGroup)} held by ${s.label(principal.id)}`,
          'only entries from groups it is under that carry the SKU',
          `${entry.state}/${entry.error}`,
        );
    }
  }

  const seats = [...skus.values()]
    .map(
      (sku) =>
        `${sku.skuPartNumber} ${sku.consumedUnits}/${sku.prepaidUnits.enabled + sku.prepaidUnits.warning}`,
    )
    .join(', ');
  s.ok(
    `invariants hold for ${users.length} users and ${devices.length} devices: seats exact and within Total (${seats}); ` +
      (s.tenant.licenseErrorHealing === 'automatic' ? 'nobody waits beside a free seat; ' : '') +
      `every member of ${groups.length} licensed groups covered, no stray entries`,
  );
}
