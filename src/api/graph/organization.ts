import { listSubscriptions } from '../../application/tenants.js';
import { auditFilter, decodeAudit } from '../../storage/audit.js';
import { odata } from '../../storage/keys.js';
import { unsupportedQuery } from '../envelope.js';
import { describeClause, parseFilter } from '../odata.js';
import { type ApiRequest, type GraphContext, type GraphRoute, ok } from '../routing.js';
import { ACCESS, requireAny } from '../tokens.js';
import { pageOfRows } from './listing.js';
import { subscribedSkuJson } from './shapes.js';

async function subscribedSkus(_request: ApiRequest, context: GraphContext) {
  requireAny(context.caller, ACCESS.readOrganization);
  const subs = await listSubscriptions(context.app, context.caller.tenantId);
  return ok(
    { value: subs.map((s) => subscribedSkuJson(context.app.catalog, context.caller.tenantId, s)) },
    'subscribedSkus',
    context.serviceRoot,
  );
}

/** `directoryAudits`, newest first, with `$filter` on `activityDisplayName` and `activityDateTime`. */
async function directoryAudits(request: ApiRequest, context: GraphContext) {
  requireAny(context.caller, ACCESS.readDirectory);
  const parts: string[] = [];
  for (const clause of parseFilter(request.query, ['activityDisplayName', 'activityDateTime'])) {
    if (
      clause.kind === 'eq' &&
      clause.property === 'activityDisplayName' &&
      typeof clause.value === 'string'
    ) {
      parts.push(`a eq ${odata(clause.value)}`);
    } else if (clause.kind === 'startswith' && clause.property === 'activityDisplayName') {
      parts.push(`a ge ${odata(clause.value)}`, `a lt ${odata(`${clause.value}\uffff`)}`);
    } else if (clause.kind === 'compare' && clause.property === 'activityDateTime') {
      const time = new Date(clause.value);
      if (Number.isNaN(time.getTime())) {
        throw unsupportedQuery(`'${clause.value}' is not a valid DateTimeOffset for activityDateTime.`);
      }
      parts.push(`t ${clause.op} ${odata(time.toISOString())}`);
    } else {
      // Anything else would be answered wrongly (an empty page), so it is refused as Graph does.
      throw unsupportedQuery(
        `Unsupported or invalid query filter clause specified for directoryAudits: ${describeClause(clause)}.`,
      );
    }
  }
  const filter = auditFilter(context.caller.tenantId, parts.join(' and ') || undefined);
  const page = await pageOfRows(request, context.app.tables.audit, filter);
  return ok(
    { ...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}), value: page.items.map(decodeAudit) },
    'auditLogs/directoryAudits',
    context.serviceRoot,
  );
}

export const organizationRoutes: readonly GraphRoute[] = [
  { name: 'graphSubscribedSkus', template: 'subscribedSkus', handlers: { GET: subscribedSkus } },
  { name: 'graphDirectoryAudits', template: 'auditLogs/directoryAudits', handlers: { GET: directoryAudits } },
];
