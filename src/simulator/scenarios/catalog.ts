import { z } from 'zod';
import type { ServiceAddress } from '../service.js';

const catalogSchema = z.object({
  value: z.array(
    z.object({
      skuId: z.string(),
      skuPartNumber: z.string(),
      displayName: z.string(),
      assignableTo: z.enum(['user', 'device']),
      servicePlans: z.array(z.object({ servicePlanId: z.string(), servicePlanName: z.string() })),
    }),
  ),
});

export type CatalogSku = z.infer<typeof catalogSchema>['value'][number];

/** The SKU catalog the service ships (`GET /api/manage/catalog`), looked up by part number and plan name. */
export class Catalog {
  private readonly byPartNumber: Map<string, CatalogSku>;
  private readonly byId: Map<string, CatalogSku>;
  private readonly planNames = new Map<string, string>();

  constructor(readonly skus: readonly CatalogSku[]) {
    this.byPartNumber = new Map(skus.map((sku) => [sku.skuPartNumber, sku]));
    this.byId = new Map(skus.map((sku) => [sku.skuId, sku]));
    for (const sku of skus)
      for (const p of sku.servicePlans) this.planNames.set(p.servicePlanId, p.servicePlanName);
  }

  /** A plan's name (for messages), or its id when the catalog lacks it. */
  planName(planId: string): string {
    return this.planNames.get(planId) ?? planId;
  }

  /** The SKU with this part number (ENTERPRISEPACK, EMS, …); throws when the catalog lacks it. */
  sku(partNumber: string): CatalogSku {
    const sku = this.byPartNumber.get(partNumber);
    if (!sku) throw new Error(`the service's catalog has no SKU ${partNumber}`);
    return sku;
  }

  skuById(skuId: string): CatalogSku | undefined {
    return this.byId.get(skuId);
  }

  /** The id of a service plan of a SKU, by the plan's name (YAMMER_ENTERPRISE, MCOSTANDARD, …). */
  plan(partNumber: string, planName: string): string {
    const plan = this.sku(partNumber).servicePlans.find((p) => p.servicePlanName === planName);
    if (!plan) throw new Error(`SKU ${partNumber} has no service plan ${planName} in the service's catalog`);
    return plan.servicePlanId;
  }

  /** The plans of a SKU left enabled when `disabledPlans` are switched off. */
  enabledPlans(skuId: string, disabledPlans: readonly string[]): string[] {
    const sku = this.byId.get(skuId);
    return (sku?.servicePlans ?? []).map((p) => p.servicePlanId).filter((id) => !disabledPlans.includes(id));
  }
}

const loaded = new Map<string, Promise<Catalog>>();

/** Reads the catalog once per service. */
export function loadCatalog(service: ServiceAddress): Promise<Catalog> {
  const known = loaded.get(service.baseUrl);
  if (known) return known;
  const loading = (async () => {
    const response = await fetch(`${service.baseUrl}/api/manage/catalog`, {
      headers: { 'x-functions-key': service.adminKey },
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`GET /api/manage/catalog failed with ${response.status}: ${text}`);
    return new Catalog(catalogSchema.parse(JSON.parse(text)).value);
  })();
  loading.catch(() => loaded.delete(service.baseUrl));
  loaded.set(service.baseUrl, loading);
  return loading;
}
