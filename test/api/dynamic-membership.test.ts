// The what-if of dynamic membership through the official Graph client: POST /groups/evaluateDynamicMembership
// (Graph beta, served on v1.0 as an extension) answers whether a stored user or device would be a member under a
// rule, expression by expression; a wrong rule is a 400 that says where and what was expected.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateDynamicMembershipResultSchema } from '../../src/contract/graph.js';
import { expectGraphError, obj, type Service, startService, str } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

const evaluate = (
  tenant: Awaited<ReturnType<Service['newTenant']>>,
  memberId: string,
  membershipRule: string,
) => tenant.graph.api('/groups/evaluateDynamicMembership').post({ memberId, membershipRule });

/** Only the verdict of a what-if. */
const isMember = async (
  tenant: Awaited<ReturnType<Service['newTenant']>>,
  memberId: string,
  rule: string,
): Promise<boolean> =>
  evaluateDynamicMembershipResultSchema.parse(await evaluate(tenant, memberId, rule))
    .membershipRuleEvaluationResult;

describe('evaluateDynamicMembership', () => {
  it('explains why a user is, or is not, a member under a rule', async () => {
    const tenant = await service.newTenant();
    const userId = await tenant.createUser({ department: 'Sales', usageLocation: 'DE', jobTitle: 'Buyer' });

    const member = evaluateDynamicMembershipResultSchema.parse(
      await evaluate(tenant, userId, 'user.department -eq "sales" -and user.usageLocation -in ["DE","FR"]'),
    );
    expect(member.membershipRuleEvaluationResult).toBe(true);
    expect(member.membershipRule).toBe('user.department -eq "sales" -and user.usageLocation -in ["DE","FR"]');

    const raw = obj(
      await evaluate(tenant, userId, 'user.department -eq "Sales" -and user.jobTitle -eq "Clerk"'),
    );
    expect(raw['@odata.context']).toBe(
      `${service.graphRoot}/$metadata#microsoft.graph.evaluateDynamicMembershipResult`,
    );
    const outsider = evaluateDynamicMembershipResultSchema.parse(raw);
    expect(outsider.membershipRuleEvaluationResult).toBe(false);
    // The failing expression, and what the user's row held.
    expect(outsider.membershipRuleEvaluationDetails.expressionEvaluationDetails).toEqual([
      {
        expression: 'user.department -eq "Sales"',
        expressionResult: true,
        expressionEvaluationDetails: [],
        propertyToEvaluate: { propertyName: 'user.department', propertyValue: 'Sales' },
      },
      {
        expression: 'user.jobTitle -eq "Clerk"',
        expressionResult: false,
        expressionEvaluationDetails: [],
        propertyToEvaluate: { propertyName: 'user.jobTitle', propertyValue: 'Buyer' },
      },
    ]);
  });

  it('reads the user properties the directory keeps, set by POST, PATCH or the import, and served on $select', async () => {
    const tenant = await service.newTenant();
    const userId = await tenant.createUser({
      city: 'Paris',
      companyName: 'Contoso',
      country: 'France',
      employeeId: 'E-1042',
      state: 'IDF',
      userType: 'Member',
      otherMails: ['adele@outlook.example'],
      onPremisesExtensionAttributes: { extensionAttribute3: 'cost-center-7' },
    });
    const select =
      'city,companyName,country,employeeId,state,userType,otherMails,onPremisesExtensionAttributes';
    const read = obj(await tenant.graph.api(`/users/${userId}`).select(select).get());
    expect(read).toMatchObject({
      city: 'Paris',
      companyName: 'Contoso',
      country: 'France',
      employeeId: 'E-1042',
      state: 'IDF',
      userType: 'Member',
      otherMails: ['adele@outlook.example'],
    });
    expect(obj(read.onPremisesExtensionAttributes)).toMatchObject({
      extensionAttribute1: null,
      extensionAttribute3: 'cost-center-7',
    });
    const rule =
      'user.city -eq "Lyon" -and user.extensionAttribute3 -eq "cost-center-7" -and user.otherMails -any (_ -endsWith "outlook.example")';
    expect(await isMember(tenant, userId, rule)).toBe(false);
    await tenant.graph.api(`/users/${userId}`).patch({ city: 'Lyon' });
    expect(await isMember(tenant, userId, rule)).toBe(true);

    const imported = randomUUID();
    await tenant.importLines([
      {
        type: 'user',
        id: imported,
        userPrincipalName: `imported-${imported.slice(0, 8)}@contoso.example`,
        displayName: 'Imported',
        companyName: 'Fabrikam',
        onPremisesExtensionAttributes: { extensionAttribute15: 'x' },
      },
    ]);
    const rule2 = 'user.companyName -eq "fabrikam" -and user.extensionAttribute15 -ne null';
    expect(await isMember(tenant, imported, rule2)).toBe(true);
    await expectGraphError(
      tenant.graph.api('/users').post({
        accountEnabled: true,
        displayName: 'Bad',
        mailNickname: 'bad',
        passwordProfile: { password: 'x1!Aaaaa' },
        userPrincipalName: 'bad@contoso.example',
        userType: 'Visitor',
      }),
      400,
      'Request_BadRequest',
    );
  });

  it('evaluates device rules on the device properties set by POST or the import, served on $select', async () => {
    const tenant = await service.newTenant();
    const device = obj(
      await tenant.graph.api('/devices').post({
        accountEnabled: true,
        alternativeSecurityIds: [{ type: 2, identityProvider: null, key: 'Y3YxN2E1MWFlYw==' }],
        deviceId: randomUUID(),
        displayName: 'Front desk',
        operatingSystem: 'Windows',
        operatingSystemVersion: '10.0.22631',
        deviceOwnership: 'Company',
        enrollmentProfileName: 'Kiosk',
        managementType: 'MDM',
        isRooted: false,
        trustType: 'AzureAd',
        physicalIds: ['[ZTDId]z-1'],
        extensionAttributes: { extensionAttribute1: 'lobby' },
      }),
    );
    const id = str(device.id);
    const read = obj(
      await tenant.graph
        .api(`/devices/${id}`)
        .select(
          'deviceOwnership,enrollmentProfileName,managementType,isRooted,trustType,physicalIds,extensionAttributes',
        )
        .get(),
    );
    expect(read).toMatchObject({
      deviceOwnership: 'Company',
      enrollmentProfileName: 'Kiosk',
      managementType: 'MDM',
      isRooted: false,
      trustType: 'AzureAd',
      physicalIds: ['[ZTDId]z-1'],
    });
    expect(obj(read.extensionAttributes).extensionAttribute1).toBe('lobby');
    const rule =
      'device.deviceOSType -eq "Windows" -and device.deviceTrustType -eq "AzureAD" -and device.devicePhysicalIds -any (_ -startsWith "[ZTDId]") -and device.extensionAttribute1 -eq "lobby"';
    expect(await isMember(tenant, id, rule)).toBe(true);

    const imported = randomUUID();
    await tenant.importLines([
      {
        type: 'device',
        id: imported,
        displayName: 'Imported PC',
        deviceOwnership: 'Personal',
        isRooted: true,
      },
    ]);
    const personal = 'device.deviceOwnership -eq "Personal" -and device.isRooted -eq true';
    expect(await isMember(tenant, imported, personal)).toBe(true);
    expect(await isMember(tenant, id, personal)).toBe(false);
  });

  it('refuses a wrong rule with where and what was expected, a rule about the other kind, and an unknown member', async () => {
    const tenant = await service.newTenant();
    const userId = await tenant.createUser();
    await expectGraphError(
      evaluate(tenant, userId, 'user.department -equals "Sales"'),
      400,
      'Request_BadRequest',
      /^Invalid membership rule at position 16: expected an operator .*found '-equals'\.$/,
    );
    await expectGraphError(
      evaluate(tenant, userId, 'user.memberOf -any (group.objectId -in ["x"])'),
      400,
      'Request_BadRequest',
      /memberOf rules .* not supported/,
    );
    await expectGraphError(
      evaluate(tenant, userId, 'device.deviceOSType -eq "Windows"'),
      400,
      'Request_BadRequest',
      `The membership rule reads device properties, but ${userId} is a user.`,
    );
    await expectGraphError(
      evaluate(tenant, randomUUID(), 'user.objectId -ne null'),
      404,
      'Request_ResourceNotFound',
    );
    await expectGraphError(
      tenant.graph.api('/groups/evaluateDynamicMembership').post({ memberId: userId }),
      400,
      'Request_BadRequest',
    );
  });
});
