import { devices, importDirectory, users } from './directory.js';
import {
  active,
  entryLines,
  expectEntries,
  expectGroupStatus,
  expectOutcomes,
  watchProcessing,
} from './expectations.js';
import {
  assignGroupLicense,
  createGroup,
  expectConsumed,
  expectRefusal,
  listDevices,
  listUsers,
  moveLicense,
  readDevice,
  readGroupLicensing,
} from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S7 — Device licenses (seed 000): Microsoft 365 Apps for enterprise (device) reaches the devices of *Lab devices*
 * and of a group nested in it, never its users; seats run out; the SKU goes to one group only, moves to *Kiosks*,
 * and leaves every device unlicensed when unassigned.
 */
export async function deviceLicenses(s: Scenario): Promise<void> {
  const seats = s.size(50, 10);
  const directCount = s.size(40, 8);
  const nestedCount = s.size(20, 4);
  const userCount = s.size(10, 2);
  const sharedCount = s.size(5, 2);
  const kioskOwnCount = s.size(3, 1);
  const sku = s.catalog.sku('OFFICE_PROPLUS_DEVICE1').skuId;

  s.step(
    `buy ${seats} OFFICE_PROPLUS_DEVICE1; "Lab devices" holds ${directCount} devices, ${userCount} users and ` +
      `"Lab annex" (${nestedCount} devices); "Kiosks" holds ${sharedCount} of the lab's devices and ${kioskOwnCount} of its own`,
  );
  await s.operator.setUnits(s.tenant.id, 'OFFICE_PROPLUS_DEVICE1', seats);
  const lab = await createGroup(s, 'Lab devices');
  const annex = await createGroup(s, 'Lab annex');
  const kiosks = await createGroup(s, 'Kiosks');
  const shared = devices(s, 'LAB-KIOSK', sharedCount, { memberOf: [lab, kiosks] });
  const labOnly = devices(s, 'LAB', directCount - sharedCount, { memberOf: [lab] });
  const annexed = devices(s, 'ANNEX', nestedCount, { memberOf: [annex] });
  const kioskOwn = devices(s, 'KIOSK', kioskOwnCount, { memberOf: [kiosks] });
  await importDirectory(s, {
    users: users(s, 'Lab technician', userCount, { memberOf: [lab] }),
    devices: [...shared, ...labOnly, ...annexed, ...kioskOwn],
    memberships: [{ groupId: lab, memberId: annex }],
  });
  const underLab = new Set([...shared, ...labOnly, ...annexed].map((d) => d.id));

  s.step('assign the device SKU to Lab devices');
  await assignGroupLicense(s, lab, [{ skuId: sku, disabledPlans: [] }], []);
  await watchProcessing(s, lab);
  await s.idle();
  const labDevices = (await listDevices(s)).filter((d) => underLab.has(d.id));
  const outcomes = new Map<string, number>();
  for (const device of labDevices) {
    const line = entryLines(s, device).join('; ') || 'none';
    outcomes.set(line, (outcomes.get(line) ?? 0) + 1);
  }
  const activeLine = `${s.label(sku)} via Lab devices: Active/None`;
  const waitingLine = `${s.label(sku)} via Lab devices: Error/CountViolation`;
  s.expect(
    'the entries of the devices under Lab devices (nested included)',
    { [activeLine]: seats, [waitingLine]: directCount + nestedCount - seats },
    Object.fromEntries(outcomes),
    `${seats} devices Active, ${directCount + nestedCount - seats} devices CountViolation`,
  );
  const aDevice = labDevices.find((d) => d.licenseAssignmentStates.some((e) => e.state === 'Active'));
  if (aDevice)
    expectEntries(
      s,
      `${s.label(aDevice.id)} (GET /devices/{id}?$select=licenseAssignmentStates)`,
      await readDevice(s, aDevice.id),
      [active(sku, lab)],
    );
  expectOutcomes(s, 'users (devices-only SKU)', await listUsers(s), () => []);
  await expectConsumed(s, { OFFICE_PROPLUS_DEVICE1: seats });
  await expectGroupStatus(s, lab, {
    status: 'errorsAndIssues',
    succeeded: seats,
    failed: directCount + nestedCount - seats,
    errorsByType: { CountViolation: directCount + nestedCount - seats },
  });

  s.step('assign the same device SKU to Kiosks');
  await expectRefusal(
    s,
    {
      method: 'POST',
      path: `/groups/${kiosks}/assignLicense`,
      body: { addLicenses: [{ skuId: sku, disabledPlans: [] }], removeLicenses: [] },
    },
    {
      status: 400,
      code: 'Request_BadRequest',
      // Our own wording (docs/api.md): it names the SKU and the group that carries it.
      message: (m) => m.includes(sku) && m.includes(lab),
    },
  );
  s.expect(
    'assignedLicenses of Kiosks after the refusal',
    [],
    (await readGroupLicensing(s, kiosks)).assignedLicenses,
    '',
  );

  s.step('move the device SKU from Lab devices to Kiosks (POST /groups/{id}/moveLicense)');
  await moveLicense(s, lab, sku, kiosks);
  await watchProcessing(s, kiosks);
  await s.idle();
  const inKiosks = new Set([...shared, ...kioskOwn].map((d) => d.id));
  expectOutcomes(s, 'devices', await listDevices(s), (d) =>
    inKiosks.has(d.id) ? [active(sku, kiosks)] : [],
  );
  expectOutcomes(s, 'users', await listUsers(s), () => []);
  s.expect(
    'assignedLicenses of Lab devices and Kiosks after the move',
    { lab: [], kiosks: [{ skuId: sku, disabledPlans: [] }] },
    {
      lab: (await readGroupLicensing(s, lab)).assignedLicenses,
      kiosks: (await readGroupLicensing(s, kiosks)).assignedLicenses,
    },
    'the SKU is on Kiosks only',
  );
  await expectConsumed(s, { OFFICE_PROPLUS_DEVICE1: inKiosks.size });
  await expectGroupStatus(s, kiosks, { status: 'allLicensesAssigned', succeeded: inKiosks.size, failed: 0 });

  s.step('unassign the device SKU from Kiosks');
  await assignGroupLicense(s, kiosks, [], [sku]);
  await watchProcessing(s, kiosks);
  await s.idle();
  expectOutcomes(s, 'devices', await listDevices(s), () => []);
  await expectConsumed(s, { OFFICE_PROPLUS_DEVICE1: 0 });

  await checkInvariants(s);
}
