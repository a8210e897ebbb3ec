import {
  addMember,
  createGroup,
  deleteGroup,
  getGroup,
  removeMember,
  updateGroup,
} from '../../application/directory.js';
import { evaluateGroupRule, ruleOf } from '../../application/dynamic-groups.js';
import { evaluateDynamicMembership } from '../../application/dynamic-membership.js';
import {
  assignGroupLicenses,
  moveDeviceLicense,
  processingDetails,
  reprocessGroup,
} from '../../application/group-licensing.js';
import { previewGroupLicenses } from '../../application/license-preview.js';
import {
  countGroups,
  type GroupCondition,
  groupControlsOf,
  groupLicensesWith,
  groupsWithLicenseErrors,
  licensedGroups,
  listGroupMembers,
  listGroups,
  listMembersInLicenseError,
} from '../../application/queries.js';
import type { GroupLicenseRecord, GroupRecord } from '../../application/records.js';
import type {
  EvaluateDynamicMembershipResult,
  LicenseAssignmentPreview,
  LicenseProcessingDetails,
} from '../../contract/graph.js';
import { GUID_PATTERN, GUID_TEXT } from '../../engine/ids.js';
import { badRequest, notFound, unsupportedQuery } from '../envelope.js';
import { describeClause, parseFilter, parseSelect, project, textCondition, wantsCount } from '../odata.js';
import { type ApiRequest, type GraphContext, type GraphRoute, noContent, ok } from '../routing.js';
import { ACCESS } from '../tokens.js';
import { groupProcessingFailureText } from '../wording.js';
import { parseAssignLicense, parseBody } from './body.js';
import { pageOf, pageOfList } from './listing.js';
import {
  DEVICE_DEFAULTS,
  DEVICE_PROPERTIES,
  directoryObjectJson,
  GROUP_DEFAULTS,
  GROUP_PROPERTIES,
  groupJson,
  USER_DEFAULTS,
  USER_PROPERTIES,
} from './shapes.js';
import {
  evaluateDynamicMembershipSchema,
  evaluateGroupMembershipSchema,
  groupPatchSchema,
  moveLicenseSchema,
  newGroupSchema,
  referenceSchema,
} from './wire.js';

const REF = new RegExp(`/(?:directoryObjects|users|groups|devices)/(${GUID_TEXT})/?$`);

/** The id in an `@odata.id` / `@odata.bind` reference (`…/directoryObjects/{id}`). */
function referencedId(reference: string): string {
  const match = REF.exec(reference.trim());
  if (!match?.[1]) throw badRequest(`Invalid object identifier '${reference.slice(0, 200)}'.`);
  return match[1].toLowerCase();
}

const MEMBER_PROPERTIES = [...new Set([...USER_PROPERTIES, ...DEVICE_PROPERTIES, ...GROUP_PROPERTIES])];

async function loadGroup(request: ApiRequest, context: GraphContext) {
  const id = request.params.id ?? '';
  if (!GUID_PATTERN.test(id)) throw notFound(id);
  return getGroup(context.app, context.caller.tenantId, id.toLowerCase());
}

async function listGroupsHandler(request: ApiRequest, context: GraphContext) {
  const tenantId = context.caller.tenantId;
  const selected = parseSelect(request.query, 'group', GROUP_PROPERTIES);
  const clauses = parseFilter(request.query, [
    'assignedLicenses',
    'hasMembersWithLicenseErrors',
    'displayName',
    'securityEnabled',
    'mailEnabled',
  ]);
  const count = wantsCount(request.query, request.headers);
  const controls = await groupControlsOf(context.app, tenantId);
  const licenses = controls.licenses;
  const render = (group: GroupRecord) =>
    project(groupJson(group, licenses.get(group.id), controls.rules.get(group.id)), selected, GROUP_DEFAULTS);

  const conditions: GroupCondition[] = [];
  const skuIds: string[] = [];
  let onlyWithErrors = false;
  for (const clause of clauses) {
    const displayName = textCondition(clause, 'displayName');
    if (clause.kind === 'anyAssignedLicense') skuIds.push(clause.skuId);
    else if (
      clause.kind === 'eq' &&
      clause.property === 'hasMembersWithLicenseErrors' &&
      clause.value === true
    )
      onlyWithErrors = true;
    else if (
      clause.kind === 'eq' &&
      clause.property === 'securityEnabled' &&
      typeof clause.value === 'boolean'
    )
      conditions.push({ property: 'securityEnabled', equals: clause.value });
    else if (clause.kind === 'eq' && clause.property === 'mailEnabled' && typeof clause.value === 'boolean')
      conditions.push({ property: 'mailEnabled', equals: clause.value });
    else if (displayName) conditions.push({ property: 'displayName', ...displayName });
    else {
      throw unsupportedQuery(
        `Unsupported or invalid query filter clause specified for groups: ${describeClause(clause)}. Supported: assignedLicenses/any(x:x/skuId eq {guid}), hasMembersWithLicenseErrors eq true, securityEnabled eq, mailEnabled eq, displayName eq, startswith(displayName,'…').`,
      );
    }
  }
  if (onlyWithErrors || skuIds.length > 0) {
    // Both are answered from the control partition's license rows (few groups carry licenses), not a group scan.
    const carrying = skuIds.length > 0 ? groupLicensesWith(licenses, skuIds) : licenses;
    const groups = onlyWithErrors
      ? await groupsWithLicenseErrors(context.app, tenantId, conditions, carrying)
      : await licensedGroups(context.app, tenantId, conditions, carrying);
    const query = `${onlyWithErrors ? 'errors' : 'licensed'}|${[...skuIds].sort().join(',')}|${JSON.stringify(conditions)}`;
    const page = pageOfList(request, tenantId, groups, query);
    return ok(
      {
        ...(count ? { '@odata.count': groups.length } : {}),
        ...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}),
        value: page.items.map(render),
      },
      'groups',
      context.serviceRoot,
    );
  }
  const page = await pageOf(request, tenantId, `groups|${JSON.stringify(conditions)}`, (at) =>
    listGroups(context.app, tenantId, conditions, at),
  );
  return ok(
    {
      ...(count ? { '@odata.count': await countGroups(context.app, tenantId, conditions) } : {}),
      ...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}),
      value: page.items.map(render),
    },
    'groups',
    context.serviceRoot,
  );
}

async function postGroup(request: ApiRequest, context: GraphContext) {
  const input = parseBody(newGroupSchema, await request.json(), 'Group');
  for (const owner of input['owners@odata.bind'] ?? []) referencedId(owner);
  const group = await createGroup(context.app, context.caller.tenantId, {
    displayName: input.displayName,
    mailNickname: input.mailNickname,
    securityEnabled: input.securityEnabled,
    mailEnabled: input.mailEnabled,
    groupTypes: input.groupTypes ?? [],
    description: input.description ?? null,
    members: (input['members@odata.bind'] ?? []).map(referencedId),
    ...(input.membershipRule === undefined ? {} : { membershipRule: input.membershipRule }),
    ...(input.membershipRuleProcessingState === undefined
      ? {}
      : { membershipRuleProcessingState: input.membershipRuleProcessingState }),
  });
  return ok(await groupBody(context, group, undefined), 'groups/$entity', context.serviceRoot, 201);
}

/** A group as a write returns it: its default properties, with its rule as stored now. */
async function groupBody(
  context: GraphContext,
  group: GroupRecord,
  licensing: GroupLicenseRecord | undefined,
) {
  const rule = await ruleOf(context.app, context.caller.tenantId, group.id);
  return project(groupJson(group, licensing, rule), undefined, GROUP_DEFAULTS);
}

async function getGroupHandler(request: ApiRequest, context: GraphContext) {
  const selected = parseSelect(request.query, 'group', GROUP_PROPERTIES);
  const group = await loadGroup(request, context);
  const controls = await groupControlsOf(context.app, context.caller.tenantId);
  return ok(
    project(
      groupJson(group, controls.licenses.get(group.id), controls.rules.get(group.id)),
      selected,
      GROUP_DEFAULTS,
    ),
    'groups/$entity',
    context.serviceRoot,
  );
}

async function patchGroup(request: ApiRequest, context: GraphContext) {
  const body = parseBody(groupPatchSchema, await request.json(), 'Group');
  const group = await loadGroup(request, context);
  await updateGroup(context.app, context.caller.tenantId, group.id, {
    ...(body.displayName === undefined ? {} : { displayName: body.displayName }),
    ...(body.description === undefined ? {} : { description: body.description }),
    ...(body.mailNickname === undefined ? {} : { mailNickname: body.mailNickname }),
    ...(body.groupTypes === undefined ? {} : { groupTypes: body.groupTypes }),
    ...(body.membershipRule === undefined ? {} : { membershipRule: body.membershipRule }),
    ...(body.membershipRuleProcessingState === undefined
      ? {}
      : { membershipRuleProcessingState: body.membershipRuleProcessingState }),
  });
  return noContent;
}

async function deleteGroupHandler(request: ApiRequest, context: GraphContext) {
  const group = await loadGroup(request, context);
  await deleteGroup(context.app, context.caller.tenantId, group.id);
  return noContent;
}

async function listMembers(request: ApiRequest, context: GraphContext) {
  const tenantId = context.caller.tenantId;
  // Members are users, devices and groups: each shows its type's default properties, or what `$select` names.
  const selected = parseSelect(request.query, 'directoryObject', MEMBER_PROPERTIES);
  const group = await loadGroup(request, context);
  // The skiptoken holds the last member listed (sealed to this group's listing), so a page reads only its stretch.
  const page = await pageOf(request, tenantId, `members|${group.id}`, (at) =>
    listGroupMembers(context.app, tenantId, group.id, at),
  );
  const value = page.items.map((object) =>
    project(
      directoryObjectJson(context.app.catalog, object),
      selected,
      object.kind === 'group' ? GROUP_DEFAULTS : object.kind === 'user' ? USER_DEFAULTS : DEVICE_DEFAULTS,
    ),
  );
  return ok(
    { ...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}), value },
    'directoryObjects',
    context.serviceRoot,
  );
}

async function addMemberRef(request: ApiRequest, context: GraphContext) {
  const body = parseBody(referenceSchema, await request.json(), 'reference');
  const group = await loadGroup(request, context);
  await addMember(context.app, context.caller.tenantId, group.id, referencedId(body['@odata.id']));
  return noContent;
}

async function removeMemberRef(request: ApiRequest, context: GraphContext) {
  const group = await loadGroup(request, context);
  const memberId = request.params.memberId ?? '';
  if (!GUID_PATTERN.test(memberId)) throw notFound(memberId);
  await removeMember(context.app, context.caller.tenantId, group.id, memberId.toLowerCase());
  return noContent;
}

async function assignLicense(request: ApiRequest, context: GraphContext) {
  const body = parseAssignLicense(await request.json());
  const group = await loadGroup(request, context);
  const result = await assignGroupLicenses(context.app, context.caller.tenantId, group.id, body);
  return {
    ...ok(
      await groupBody(context, result.group, result.licensing),
      'groups/$entity',
      context.serviceRoot,
      202,
    ),
    headers: { location: `${context.serviceRoot}/groups/${group.id}` },
  };
}

async function previewLicenseAssignment(request: ApiRequest, context: GraphContext) {
  const body = parseAssignLicense(await request.json());
  const group = await loadGroup(request, context);
  const preview: LicenseAssignmentPreview = await previewGroupLicenses(
    context.app,
    context.caller.tenantId,
    group.id,
    body,
  );
  return ok({ ...preview }, `groups('${group.id}')/previewLicenseAssignment`, context.serviceRoot);
}

async function membersWithLicenseErrors(request: ApiRequest, context: GraphContext) {
  const tenantId = context.caller.tenantId;
  const group = await loadGroup(request, context);
  // Users and devices (device licenses): each shows its own type's properties.
  const selected = parseSelect(request.query, 'directoryObject', MEMBER_PROPERTIES);
  const page = await pageOf(request, tenantId, `errors|${group.id}`, (at) =>
    listMembersInLicenseError(context.app, tenantId, group.id, at),
  );
  const value = page.items.map((p) =>
    project(
      directoryObjectJson(context.app.catalog, { kind: p.kind, principal: p }),
      selected,
      p.kind === 'user' ? USER_DEFAULTS : DEVICE_DEFAULTS,
    ),
  );
  return ok(
    { ...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}), value },
    'directoryObjects',
    context.serviceRoot,
  );
}

async function reprocess(request: ApiRequest, context: GraphContext) {
  const group = await loadGroup(request, context);
  const result = await reprocessGroup(context.app, context.caller.tenantId, group.id);
  return {
    ...ok(
      await groupBody(context, result.group, result.licensing),
      'groups/$entity',
      context.serviceRoot,
      202,
    ),
    headers: { location: `${context.serviceRoot}/groups/${group.id}/licenseProcessingDetails` },
  };
}

async function licenseProcessingDetails(request: ApiRequest, context: GraphContext) {
  const group = await loadGroup(request, context);
  const details = await processingDetails(context.app, context.caller.tenantId, group.id);
  const shown: LicenseProcessingDetails = {
    ...details,
    lastFailure: details.lastFailure ? groupProcessingFailureText(details.lastFailure) : null,
  };
  return ok({ ...shown }, `groups('${group.id}')/licenseProcessingDetails`, context.serviceRoot);
}

async function moveLicense(request: ApiRequest, context: GraphContext) {
  const body = parseBody(moveLicenseSchema, await request.json(), 'moveLicense');
  const group = await loadGroup(request, context);
  const result = await moveDeviceLicense(
    context.app,
    context.caller.tenantId,
    group.id,
    body.skuId,
    body.targetGroupId,
  );
  return {
    ...ok(
      await groupBody(context, result.group, result.licensing),
      'groups/$entity',
      context.serviceRoot,
      202,
    ),
    headers: { location: `${context.serviceRoot}/groups/${result.group.id}` },
  };
}

async function evaluateGroupMembership(request: ApiRequest, context: GraphContext) {
  const body = parseBody(evaluateGroupMembershipSchema, await request.json(), 'evaluateDynamicMembership');
  const group = await loadGroup(request, context);
  const result: EvaluateDynamicMembershipResult = await evaluateGroupRule(
    context.app,
    context.caller.tenantId,
    group,
    body.memberId.toLowerCase(),
  );
  return ok({ ...result }, 'microsoft.graph.evaluateDynamicMembershipResult', context.serviceRoot);
}

async function evaluateMembership(request: ApiRequest, context: GraphContext) {
  const body = parseBody(evaluateDynamicMembershipSchema, await request.json(), 'evaluateDynamicMembership');
  const result: EvaluateDynamicMembershipResult = await evaluateDynamicMembership(
    context.app,
    context.caller.tenantId,
    body.memberId,
    body.membershipRule,
  );
  return ok({ ...result }, 'microsoft.graph.evaluateDynamicMembershipResult', context.serviceRoot);
}

export const groupRoutes: readonly GraphRoute[] = [
  {
    name: 'graphGroups',
    template: 'groups',
    handlers: {
      GET: { permissions: ACCESS.readGroups, handle: listGroupsHandler },
      POST: { permissions: ACCESS.writeGroups, handle: postGroup },
    },
  },
  {
    name: 'graphGroupsEvaluateDynamicMembership',
    template: 'groups/evaluateDynamicMembership',
    handlers: { POST: { permissions: ACCESS.readGroups, handle: evaluateMembership } },
  },
  {
    name: 'graphGroup',
    template: 'groups/{id}',
    handlers: {
      GET: { permissions: ACCESS.readGroups, handle: getGroupHandler },
      PATCH: { permissions: ACCESS.writeGroups, handle: patchGroup },
      DELETE: { permissions: ACCESS.writeGroups, handle: deleteGroupHandler },
    },
  },
  {
    name: 'graphGroupEvaluateDynamicMembership',
    template: 'groups/{id}/evaluateDynamicMembership',
    handlers: { POST: { permissions: ACCESS.readGroups, handle: evaluateGroupMembership } },
  },
  {
    name: 'graphGroupMembers',
    template: 'groups/{id}/members',
    handlers: { GET: { permissions: ACCESS.readGroups, handle: listMembers } },
  },
  {
    name: 'graphGroupMemberAdd',
    template: 'groups/{id}/members/$ref',
    handlers: { POST: { permissions: ACCESS.writeGroups, handle: addMemberRef } },
  },
  {
    name: 'graphGroupMemberRemove',
    template: 'groups/{id}/members/{memberId}/$ref',
    handlers: { DELETE: { permissions: ACCESS.writeGroups, handle: removeMemberRef } },
  },
  {
    name: 'graphGroupAssignLicense',
    template: 'groups/{id}/assignLicense',
    handlers: { POST: { permissions: ACCESS.assignGroupLicenses, handle: assignLicense } },
  },
  {
    name: 'graphGroupPreviewLicenseAssignment',
    template: 'groups/{id}/previewLicenseAssignment',
    handlers: { POST: { permissions: ACCESS.readGroups, handle: previewLicenseAssignment } },
  },
  {
    name: 'graphGroupMembersWithLicenseErrors',
    template: 'groups/{id}/membersWithLicenseErrors',
    handlers: { GET: { permissions: ACCESS.readGroups, handle: membersWithLicenseErrors } },
  },
  {
    name: 'graphGroupReprocess',
    template: 'groups/{id}/reprocessLicenseAssignment',
    handlers: { POST: { permissions: ACCESS.assignGroupLicenses, handle: reprocess } },
  },
  {
    name: 'graphGroupLicenseProcessingDetails',
    template: 'groups/{id}/licenseProcessingDetails',
    handlers: { GET: { permissions: ACCESS.readGroups, handle: licenseProcessingDetails } },
  },
  {
    name: 'graphGroupMoveLicense',
    template: 'groups/{id}/moveLicense',
    handlers: { POST: { permissions: ACCESS.assignGroupLicenses, handle: moveLicense } },
  },
];
