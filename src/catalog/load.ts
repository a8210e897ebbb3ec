import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { Catalog, type CatalogData } from '../engine/catalog.js';
import { GUID_PATTERN } from '../engine/ids.js';

const guid = z
  .string()
  .regex(GUID_PATTERN)
  .transform((s) => s.toLowerCase());

const catalogSchema = z.object({
  skus: z
    .array(
      z.object({
        skuId: guid,
        skuPartNumber: z.string().min(1),
        displayName: z.string().min(1),
        assignableTo: z.enum(['user', 'device']),
        servicePlans: z.array(z.object({ servicePlanId: guid, servicePlanName: z.string().min(1) })).min(1),
      }),
    )
    .min(1),
  rules: z.object({
    mailboxPlans: z.array(guid),
    mutuallyExclusive: z.array(z.tuple([guid, guid])),
    dependencies: z.array(z.object({ servicePlanId: guid, requiresAnyOf: z.array(guid).min(1) })),
    prohibitedUsageLocations: z.object({
      allPlans: z.array(z.string().length(2)),
      byPlan: z.array(z.object({ servicePlanId: guid, countries: z.array(z.string().length(2)) })),
    }),
  }),
});

/** Validates catalog data: the schema, unique SKU ids and part numbers, and rules that name known plans only. */
export function parseCatalog(raw: unknown): CatalogData {
  const data = catalogSchema.parse(raw);
  const skuIds = new Set<string>();
  const partNumbers = new Set<string>();
  const plans = new Set<string>();
  for (const sku of data.skus) {
    if (skuIds.has(sku.skuId)) throw new Error(`catalog: duplicate skuId ${sku.skuId}`);
    if (partNumbers.has(sku.skuPartNumber))
      throw new Error(`catalog: duplicate skuPartNumber ${sku.skuPartNumber}`);
    skuIds.add(sku.skuId);
    partNumbers.add(sku.skuPartNumber);
    for (const plan of sku.servicePlans) plans.add(plan.servicePlanId);
  }
  const named = [
    ...data.rules.mailboxPlans,
    ...data.rules.mutuallyExclusive.flat(),
    ...data.rules.dependencies.flatMap((d) => [d.servicePlanId, ...d.requiresAnyOf]),
    ...data.rules.prohibitedUsageLocations.byPlan.map((p) => p.servicePlanId),
  ];
  for (const plan of named) {
    if (!plans.has(plan)) throw new Error(`catalog: rules name service plan ${plan}, which no SKU contains`);
  }
  return data;
}

let shippedData: CatalogData | undefined;
let shipped: Catalog | undefined;

/**
 * The catalog data this product ships (`catalog.json` beside this file), validated once per process: the SKUs and
 * the rule data, for readers that must not take the engine's view of them (the simulator's oracle).
 */
export function loadCatalogData(): CatalogData {
  shippedData ??= parseCatalog(JSON.parse(readFileSync(join(__dirname, 'catalog.json'), 'utf8')));
  return shippedData;
}

/** The catalog this product ships, as the engine's lookups. */
export function loadCatalog(): Catalog {
  shipped ??= new Catalog(loadCatalogData());
  return shipped;
}
