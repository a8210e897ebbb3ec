import { collectionSchema, licenseProcessingDetailsSchema, subscribedSkuSchema } from '../contract/graph.js';
import type { Catalog } from '../engine/index.js';
import { graphClient, type OperatorClient } from './service.js';
import type { SimState } from './state.js';

export interface SkuRow {
  readonly sku: string;
  readonly total: number;
  readonly assigned: number;
  readonly available: number;
  readonly expiringSoon: number;
}

export interface GroupRow {
  readonly group: string;
  readonly status: string;
  readonly succeeded: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
}

export interface Report {
  readonly tenantId: string;
  readonly licenses: readonly SkuRow[];
  readonly groups: readonly GroupRow[];
  readonly errorsByType: Readonly<Record<string, number>>;
}

/** The Licenses page of the admin center: per SKU Total, Assigned, Available, Expiring soon; group statuses; errors. */
export async function buildReport(
  operator: OperatorClient,
  catalog: Catalog,
  state: SimState,
): Promise<Report> {
  const graph = graphClient(operator.baseUrl, await operator.token(state.tenant.id, ['Directory.Read.All']));
  const skus = collectionSchema(subscribedSkuSchema).parse(await graph.api('/subscribedSkus').get()).value;
  const licenses = skus.map((s) => {
    const total = s.prepaidUnits.enabled + s.prepaidUnits.warning;
    return {
      sku: catalog.sku(s.skuId)?.skuPartNumber ?? s.skuPartNumber,
      total,
      assigned: s.consumedUnits,
      available: Math.max(0, total - s.consumedUnits),
      expiringSoon: s.prepaidUnits.warning,
    };
  });
  const groups: GroupRow[] = [];
  const errorsByType: Record<string, number> = {};
  for (const [groupId, group] of Object.entries(state.groups)) {
    if (group.licenses.length === 0) continue;
    const details = licenseProcessingDetailsSchema.parse(
      await graph.api(`/groups/${groupId}/licenseProcessingDetails`).get(),
    );
    groups.push({
      group: group.displayName,
      status: details.status,
      succeeded: details.membersSucceeded,
      failed: details.membersFailed,
      errors: details.errorsByType,
    });
    for (const [type, n] of Object.entries(details.errorsByType))
      errorsByType[type] = (errorsByType[type] ?? 0) + n;
  }
  return { tenantId: state.tenant.id, licenses, groups, errorsByType };
}

const STATUS_TEXT: Record<string, string> = {
  allLicensesAssigned: 'All licenses assigned',
  errorsAndIssues: 'Errors & issues',
  inProgress: 'In progress',
};

function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells: readonly (string | number)[]) =>
    cells
      .map((c, i) =>
        typeof c === 'number' ? String(c).padStart(widths[i] ?? 0) : String(c).padEnd(widths[i] ?? 0),
      )
      .join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatReport(report: Report): string {
  const parts = [
    `Tenant ${report.tenantId}`,
    '',
    'Licenses',
    table(
      ['SKU', 'Total', 'Assigned', 'Available', 'Expiring soon'],
      report.licenses.map((l) => [l.sku, l.total, l.assigned, l.available, l.expiringSoon]),
    ),
    '',
    'Groups with licenses',
    table(
      ['Group', 'Status', 'Succeeded', 'Failed'],
      report.groups.map((g) => [g.group, STATUS_TEXT[g.status] ?? g.status, g.succeeded, g.failed]),
    ),
    '',
    'Errors by type',
    Object.keys(report.errorsByType).length === 0
      ? '(none)'
      : table(
          ['Error', 'Members'],
          Object.entries(report.errorsByType).map(([type, n]) => [type, n]),
        ),
  ];
  return parts.join('\n');
}
