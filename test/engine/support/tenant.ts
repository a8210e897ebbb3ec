import type { Catalog } from '../../../src/engine/catalog.js';
import type { GroupFacts, Guid, PrepaidUnits, TenantSettings } from '../../../src/engine/model.js';
import { ReferenceTenant } from '../../../src/engine/reference.js';
import { testCatalog } from './catalog.js';
import { TestClock } from './ids.js';

export function units(enabled: number, warning = 0): PrepaidUnits {
  return { enabled, warning, suspended: 0, lockedOut: 0 };
}

export function securityGroup(id: Guid): GroupFacts {
  return { id, securityEnabled: true, mailEnabled: false, groupTypes: [] };
}

export function distributionList(id: Guid): GroupFacts {
  return { id, securityEnabled: false, mailEnabled: true, groupTypes: [] };
}

export function microsoft365Group(id: Guid, securityEnabled = false): GroupFacts {
  return { id, securityEnabled, mailEnabled: true, groupTypes: ['Unified'] };
}

export interface TestTenant {
  readonly tenant: ReferenceTenant;
  readonly clock: TestClock;
  readonly catalog: Catalog;
}

export function newTenant(
  options: {
    catalog?: Catalog;
    country?: string;
    healing?: TenantSettings['licenseErrorHealing'];
    seats?: Readonly<Record<Guid, number>>;
  } = {},
): TestTenant {
  const catalog = options.catalog ?? testCatalog;
  const clock = new TestClock();
  const tenant = new ReferenceTenant(
    catalog,
    { countryLetterCode: options.country ?? 'US', licenseErrorHealing: options.healing ?? 'automatic' },
    clock.now,
  );
  for (const [skuId, count] of Object.entries(options.seats ?? {})) tenant.setUnits(skuId, units(count));
  return { tenant, clock, catalog };
}

/** The `assignLicense` body that adds these SKUs (`[skuId, ...disabledPlans]` each). */
export function add(...licenses: readonly (readonly [Guid, ...Guid[]])[]) {
  return {
    addLicenses: licenses.map(([skuId, ...disabledPlans]) => ({ skuId, disabledPlans })),
    removeLicenses: [],
  };
}

export function remove(...skuIds: Guid[]) {
  return { addLicenses: [], removeLicenses: skuIds };
}
