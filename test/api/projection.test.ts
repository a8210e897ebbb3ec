// `$select` as the read path applies it: the names resolved case-insensitively, only the kept properties read, and a
// user's costly views (licenses, plans, extension attributes) computed only when a caller asks for them.
import { describe, expect, it } from 'vitest';
import { USER_DEFAULTS, USER_PROPERTIES, userJson } from '../../src/api/graph/shapes.js';
import { parseSelect, project } from '../../src/api/odata.js';
import { loadCatalog } from '../../src/catalog/load.js';
import { userSchema } from '../../src/contract/graph.js';
import { principalRecord } from '../support/records.js';

const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const EMS = 'efccb6f7-5641-4e0e-bd10-b4976e1bf68e';
const YAMMER = '7547a3fe-08ee-4ccb-b430-5077c5041653';
const GROUP = '00000000-0000-4000-8000-000000000001';

const licensedUser = principalRecord('00000000-0000-4000-8000-00000000000a', {
  displayName: 'Adele Vance',
  mailNickname: 'adele',
  usageLocation: 'US',
  profile: { givenName: 'Adele', extensionAttribute3: 'north' },
  directLicenses: [{ skuId: E3, disabledPlans: [YAMMER], since: '2026-03-02T10:00:00.000Z' }],
  entries: [
    {
      skuId: E3,
      assignedByGroup: null,
      disabledPlans: [YAMMER],
      state: 'Active',
      error: 'None',
      lastUpdatedDateTime: '2026-03-02T10:00:00.000Z',
      since: '2026-03-02T10:00:00.000Z',
      waitingSince: null,
    },
    {
      skuId: EMS,
      assignedByGroup: GROUP,
      disabledPlans: [],
      state: 'Active',
      error: 'None',
      lastUpdatedDateTime: '2026-03-03T10:00:00.000Z',
      since: '2026-03-03T10:00:00.000Z',
      waitingSince: null,
    },
  ],
});

describe('$select', () => {
  it('resolves names ignoring case, the same on every request', () => {
    const query = new URLSearchParams('$select=ID,licenseassignmentstates');
    const first = parseSelect(query, 'user', USER_PROPERTIES);
    expect(first).toEqual(new Set(['id', 'licenseAssignmentStates']));
    expect(parseSelect(query, 'user', USER_PROPERTIES)).toEqual(first);
    expect(() => parseSelect(new URLSearchParams('$select=id,shoeSize'), 'user', USER_PROPERTIES)).toThrow(
      "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'.",
    );
  });

  it('reads only the properties it keeps (and id), in the order the builder gives them', () => {
    const read: string[] = [];
    const full = {
      get id() {
        read.push('id');
        return 'x';
      },
      get kept() {
        read.push('kept');
        return 1;
      },
      get costly() {
        read.push('costly');
        return 2;
      },
    };
    expect(Object.entries(project(full, new Set(['kept']), []))).toEqual([
      ['id', 'x'],
      ['kept', 1],
    ]);
    expect(read).toEqual(['id', 'kept']);
  });
});

describe('a user as served', () => {
  const catalog = loadCatalog();

  it('has every property of the contract, the license views included, when read in full', () => {
    const user = userSchema.parse(JSON.parse(JSON.stringify(userJson(catalog, licensedUser))));
    expect(user.assignedLicenses).toEqual([
      { skuId: E3, disabledPlans: [YAMMER] },
      { skuId: EMS, disabledPlans: [] },
    ]);
    expect(user.assignedPlans.length).toBeGreaterThan(0);
    expect(user.licenseAssignmentStates.map((s) => [s.skuId, s.assignedByGroup])).toEqual([
      [E3, null],
      [EMS, GROUP],
    ]);
    expect(user.onPremisesExtensionAttributes.extensionAttribute3).toBe('north');
  });

  it('gives a $select of licenseAssignmentStates exactly what the full user has for it', () => {
    const full = JSON.parse(JSON.stringify(userJson(catalog, licensedUser)));
    const selected = project(
      userJson(catalog, licensedUser),
      parseSelect(new URLSearchParams('$select=id,licenseAssignmentStates'), 'user', USER_PROPERTIES),
      USER_DEFAULTS,
    );
    expect(JSON.parse(JSON.stringify(selected))).toEqual({
      id: licensedUser.id,
      licenseAssignmentStates: full.licenseAssignmentStates,
    });
  });

  it('shows Graph default set without $select, none of the license views', () => {
    const shown = project(userJson(catalog, licensedUser), undefined, USER_DEFAULTS);
    expect(Object.keys(shown)).toEqual(['id', ...USER_DEFAULTS]);
    expect(shown.givenName).toBe('Adele');
  });
});
