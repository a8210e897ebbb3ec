// The invariants of rules.md §7, checked from the outside once the tenant is idle: everything is read over HTTP
// (every user, deleted user and device with its license entries and licenses, /subscribedSkus, the licensed groups
// and their members, nested groups included) and judged by the simulator's oracle (../oracle.ts), which decides
// from the rules alone, apart from the service's engine, what each entry and each SKU's seats must be.
import { loadCatalogData } from '../../catalog/load.js';
import { judgeTenant, type OracleMembership, type ServicePrincipal } from '../oracle.js';
import {
  groupMembers,
  licensedGroups,
  listDeletedUsers,
  listDevices,
  listUserFacts,
  readGroupLicensing,
  subscribedSkus,
} from './graph.js';
import type { Scenario } from './run.js';

/**
 * Checks, when the tenant is idle, that every licensed group's processing is complete and that the oracle finds
 * nothing wrong: each principal has exactly the entries its sources give it (coverage, §7.4), each entry's state
 * and error is one rules.md §3 allows given what the principal holds (all or nothing, location, conflicts,
 * uniqueness, seats), `assignedLicenses` follow from the entries, seats are exact and within Total (§7.1), nobody
 * waits beside a free seat with automatic healing (§7.2), and soft-deleted users hold only `Disabled` entries (§5).
 *
 * A scenario keeps no record of its own, so the tenant judged is the one the service shows: its groups' licenses
 * and members, its users' usage locations and proxy addresses — and its users' direct licenses, which Graph only
 * shows as the direct entries (so a direct entry that went missing cannot be seen here; `verify`, which has the
 * simulator's record, sees it).
 */
export async function checkInvariants(s: Scenario): Promise<void> {
  s.step('invariants of rules.md §7 (the tenant idle)');
  await s.settle();
  const users = await listUserFacts(s);
  const deleted = await listDeletedUsers(s);
  const devices = await listDevices(s);
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

  // The members of every licensed group, and of every group nested in one (device SKUs reach through nesting).
  const memberships: OracleMembership[] = [];
  const seen = new Set(groups.map((g) => g.id));
  const pending = [...seen];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    for (const member of await groupMembers(s, id)) {
      if (member.type !== 'user' && member.type !== 'device' && member.type !== 'group') continue;
      memberships.push({ groupId: id, memberId: member.id, kind: member.type });
      if (member.type === 'group' && !seen.has(member.id)) {
        seen.add(member.id);
        pending.push(member.id);
      }
    }
  }

  const principals = new Map<string, ServicePrincipal>();
  for (const p of [...users, ...deleted, ...devices])
    principals.set(p.id, { entries: p.licenseAssignmentStates, assignedLicenses: p.assignedLicenses });
  const differences = judgeTenant(
    loadCatalogData(),
    {
      countryLetterCode: s.tenant.countryLetterCode,
      licenseErrorHealing: s.tenant.licenseErrorHealing,
      totals: new Map(
        [...skus.values()].map((sku) => [sku.skuId, sku.prepaidUnits.enabled + sku.prepaidUnits.warning]),
      ),
      lowered: new Set(),
      users: [
        ...users.map((u) => ({
          id: u.id,
          usageLocation: u.usageLocation,
          proxyAddresses: u.proxyAddresses,
          deleted: false,
          direct: u.licenseAssignmentStates.filter(
            (e) => e.assignedByGroup === null && e.error !== 'DependencyViolation',
          ),
        })),
        ...deleted.map((u) => ({
          id: u.id,
          usageLocation: null,
          proxyAddresses: [],
          deleted: true,
          direct: [],
        })),
      ],
      devices: devices.map((d) => d.id),
      groups: groups.map((g) => ({ id: g.id, licenses: g.assignedLicenses })),
      memberships,
    },
    { principals, consumedUnits: new Map([...skus.values()].map((sku) => [sku.skuId, sku.consumedUnits])) },
    { label: (id) => s.label(id) },
  );
  if (differences.length > 0)
    s.fail(
      `${differences.length} differences from the oracle (${[...new Set(differences.map((d) => d.check))].join(', ')})`,
      'none',
      differences.slice(0, 10).map((d) => `${d.check}: ${d.message}`),
    );

  const seats = [...skus.values()]
    .map(
      (sku) =>
        `${sku.skuPartNumber} ${sku.consumedUnits}/${sku.prepaidUnits.enabled + sku.prepaidUnits.warning}`,
    )
    .join(', ');
  s.ok(
    `the oracle agrees for ${users.length} users, ${deleted.length} deleted users and ${devices.length} devices: ` +
      `entries, licenses and seats as the rules allow (${seats}); ` +
      (s.tenant.licenseErrorHealing === 'automatic' ? 'nobody waits beside a free seat; ' : '') +
      `every member of ${groups.length} licensed groups covered, no stray entries`,
  );
}
