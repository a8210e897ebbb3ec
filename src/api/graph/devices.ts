import { randomUUID } from 'node:crypto';
import { createDevice, getPrincipal } from '../../application/directory.js';
import { deviceProfileOf } from '../../application/profile.js';
import { countDevices, type DeviceCondition, listDevices } from '../../application/queries.js';
import { deleteDevice } from '../../application/user-licensing.js';
import { GUID_PATTERN } from '../../engine/ids.js';
import { notFound, unsupportedQuery } from '../envelope.js';
import { describeClause, parseFilter, parseSelect, project, textCondition, wantsCount } from '../odata.js';
import { type ApiRequest, type GraphContext, type GraphRoute, noContent, ok } from '../routing.js';
import { ACCESS } from '../tokens.js';
import { parseBody } from './body.js';
import { pageOf } from './listing.js';
import { DEVICE_DEFAULTS, DEVICE_PROPERTIES, deviceJson } from './shapes.js';
import { newDeviceSchema } from './wire.js';

async function loadDevice(request: ApiRequest, context: GraphContext) {
  const id = request.params.id ?? '';
  if (!GUID_PATTERN.test(id)) throw notFound(id);
  return getPrincipal(context.app, context.caller.tenantId, id.toLowerCase(), 'device');
}

async function getDevices(request: ApiRequest, context: GraphContext) {
  const tenantId = context.caller.tenantId;
  const selected = parseSelect(request.query, 'device', DEVICE_PROPERTIES);
  const conditions = parseFilter(request.query, ['accountEnabled', 'displayName']).map(
    (clause): DeviceCondition => {
      if (clause.kind === 'eq' && clause.property === 'accountEnabled' && typeof clause.value === 'boolean')
        return { property: 'accountEnabled', equals: clause.value };
      const displayName = textCondition(clause, 'displayName');
      if (displayName) return { property: 'displayName', ...displayName };
      throw unsupportedQuery(
        `Unsupported or invalid query filter clause specified for devices: ${describeClause(clause)}.`,
      );
    },
  );
  const count = wantsCount(request.query, request.headers);
  const page = await pageOf(request, tenantId, `devices|${JSON.stringify(conditions)}`, (at) =>
    listDevices(context.app, tenantId, conditions, at),
  );
  return ok(
    {
      ...(count ? { '@odata.count': await countDevices(context.app, tenantId, conditions) } : {}),
      ...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}),
      value: page.items.map((device) =>
        project(deviceJson(context.app.catalog, device), selected, DEVICE_DEFAULTS),
      ),
    },
    'devices',
    context.serviceRoot,
  );
}

async function postDevice(request: ApiRequest, context: GraphContext) {
  const input = parseBody(newDeviceSchema, await request.json(), 'Device');
  const device = await createDevice(context.app, context.caller.tenantId, {
    id: randomUUID(),
    displayName: input.displayName,
    accountEnabled: input.accountEnabled,
    device: {
      deviceId: input.deviceId,
      operatingSystem: input.operatingSystem,
      operatingSystemVersion: input.operatingSystemVersion,
      alternativeSecurityIds: input.alternativeSecurityIds,
    },
    profile: deviceProfileOf(input),
  });
  return ok(
    project(deviceJson(context.app.catalog, device), undefined, DEVICE_DEFAULTS),
    'devices/$entity',
    context.serviceRoot,
    201,
  );
}

async function getDevice(request: ApiRequest, context: GraphContext) {
  const selected = parseSelect(request.query, 'device', DEVICE_PROPERTIES);
  const device = await loadDevice(request, context);
  return ok(
    project(deviceJson(context.app.catalog, device), selected, DEVICE_DEFAULTS),
    'devices/$entity',
    context.serviceRoot,
  );
}

async function removeDevice(request: ApiRequest, context: GraphContext) {
  const device = await loadDevice(request, context);
  await deleteDevice(context.app, context.caller.tenantId, device.id);
  return noContent;
}

export const deviceRoutes: readonly GraphRoute[] = [
  {
    name: 'graphDevices',
    template: 'devices',
    handlers: {
      GET: { permissions: ACCESS.readDevices, handle: getDevices },
      POST: { permissions: ACCESS.writeDevices, handle: postDevice },
    },
  },
  {
    name: 'graphDevice',
    template: 'devices/{id}',
    handlers: {
      GET: { permissions: ACCESS.readDevices, handle: getDevice },
      DELETE: { permissions: ACCESS.writeDevices, handle: removeDevice },
    },
  },
];
