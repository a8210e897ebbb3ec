// The acceptance scenarios of scenarios.md (S1–S12) and of dynamic groups (S13), played against a running service over HTTP only: the admin
// API for tenants, purchases, tokens and imports; the official Graph client for everything Graph; the webhook for
// directory notifications. Each scenario uses its own fresh tenant, prints every step and check, throws a
// ScenarioFailure at the first mismatch, and ends with the invariants of rules.md §7.
import type { ServiceAddress } from '../service.js';
import { Scenario, type ScenarioOptions, type TenantSpec } from './run.js';
import { hrDepartment } from './s01-hr-department.js';
import { conflictingPlans } from './s02-conflicting-plans.js';
import { notEnoughLicenses } from './s03-not-enough-licenses.js';
import { usageLocation } from './s04-usage-location.js';
import { dependencies } from './s05-dependencies.js';
import { duplicateProxyAddress } from './s06-duplicate-proxy-address.js';
import { deviceLicenses } from './s07-device-licenses.js';
import { softDeleteRestore } from './s08-soft-delete-restore.js';
import { directAndInherited } from './s09-direct-and-inherited.js';
import { nestedGroups } from './s10-nested-groups.js';
import { membershipWebhook } from './s11-membership-webhook.js';
import { largeGroup } from './s12-large-group.js';
import { dynamicGroups } from './s13-dynamic-groups.js';

export type { ScenarioOptions } from './run.js';
export { ScenarioFailure } from './run.js';

interface Definition {
  readonly title: string;
  readonly tenant: TenantSpec;
  readonly play: (s: Scenario) => Promise<void>;
}

const DEFINITIONS: Readonly<Record<string, Definition>> = {
  S1: {
    title: 'HR Department',
    tenant: { displayName: 'S1 HR Department', countryLetterCode: 'US' },
    play: hrDepartment,
  },
  S2: {
    title: 'Conflicting service plans',
    tenant: { displayName: 'S2 Conflicting service plans', countryLetterCode: 'US' },
    play: conflictingPlans,
  },
  S3: {
    title: 'Not enough licenses',
    tenant: { displayName: 'S3 Not enough licenses', countryLetterCode: 'US' },
    play: notEnoughLicenses,
  },
  S4: {
    title: 'Usage location',
    tenant: { displayName: 'S4 Usage location', countryLetterCode: 'GB' },
    play: usageLocation,
  },
  S5: {
    title: 'Dependencies',
    tenant: { displayName: 'S5 Dependencies', countryLetterCode: 'US' },
    play: dependencies,
  },
  S6: {
    title: 'Duplicate proxy address',
    tenant: { displayName: 'S6 Duplicate proxy address', countryLetterCode: 'US' },
    play: duplicateProxyAddress,
  },
  S7: {
    title: 'Device licenses',
    tenant: { displayName: 'S7 Device licenses', countryLetterCode: 'US' },
    play: deviceLicenses,
  },
  S8: {
    title: 'Soft delete, restore, hard delete',
    tenant: { displayName: 'S8 Soft delete, restore, hard delete', countryLetterCode: 'US' },
    play: softDeleteRestore,
  },
  S9: {
    title: 'Direct and inherited together',
    tenant: { displayName: 'S9 Direct and inherited', countryLetterCode: 'US' },
    play: directAndInherited,
  },
  S10: {
    title: 'Nested groups for users',
    tenant: { displayName: 'S10 Nested groups', countryLetterCode: 'US' },
    play: nestedGroups,
  },
  S11: {
    title: 'Membership webhook',
    tenant: { displayName: 'S11 Membership webhook', countryLetterCode: 'US' },
    play: membershipWebhook,
  },
  S12: {
    title: 'Large group',
    tenant: { displayName: 'S12 Large group', countryLetterCode: 'US' },
    play: largeGroup,
  },
  S13: {
    title: 'Dynamic groups',
    tenant: { displayName: 'S13 Dynamic groups', countryLetterCode: 'US' },
    play: dynamicGroups,
  },
};

export const SCENARIOS: readonly string[] = Object.keys(DEFINITIONS);

/** Plays one scenario (`S1` … `S13`, case-insensitive) against the service; throws at the first mismatch. */
export async function runScenario(
  name: string,
  service: ServiceAddress,
  options: ScenarioOptions,
): Promise<void> {
  const key = name.toUpperCase();
  const definition = DEFINITIONS[key];
  if (!definition) throw new Error(`unknown scenario ${name}; known: ${SCENARIOS.join(', ')}`);
  const started = Date.now();
  options.log(`${key} — ${definition.title} (${options.scale})`);
  const scenario = await Scenario.open(key, service, options, definition.tenant);
  await definition.play(scenario);
  options.log(`${key} passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
