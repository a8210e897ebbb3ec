import type { Guid, PrincipalKind } from './model.js';

/** The catalog as data (the shape of `src/catalog/catalog.json`); validated by the loader before it gets here. */
export interface CatalogData {
  readonly skus: readonly SkuData[];
  readonly rules: RuleData;
}

export interface SkuData {
  readonly skuId: Guid;
  readonly skuPartNumber: string;
  readonly displayName: string;
  readonly assignableTo: PrincipalKind;
  readonly servicePlans: readonly { readonly servicePlanId: Guid; readonly servicePlanName: string }[];
}

export interface RuleData {
  readonly mailboxPlans: readonly Guid[];
  readonly mutuallyExclusive: readonly (readonly [Guid, Guid])[];
  readonly dependencies: readonly { readonly servicePlanId: Guid; readonly requiresAnyOf: readonly Guid[] }[];
  readonly prohibitedUsageLocations: {
    readonly allPlans: readonly string[];
    readonly byPlan: readonly { readonly servicePlanId: Guid; readonly countries: readonly string[] }[];
  };
}

export interface Sku {
  readonly skuId: Guid;
  readonly skuPartNumber: string;
  readonly displayName: string;
  readonly assignableTo: PrincipalKind;
  /** Plan ids in catalog order. */
  readonly planIds: readonly Guid[];
  readonly planNames: ReadonlyMap<Guid, string>;
}

const NO_PLANS: ReadonlySet<Guid> = new Set();

/**
 * Read-only lookups over the catalog, built once. Everything the rules need is a map or set lookup, because the
 * engine evaluates hundreds of thousands of principals per run.
 */
export class Catalog {
  readonly skus: readonly Sku[];
  private readonly skusById = new Map<Guid, Sku>();
  private readonly skusByPartNumber = new Map<string, Sku>();
  private readonly mailboxPlans: ReadonlySet<Guid>;
  private readonly exclusions = new Map<Guid, Set<Guid>>();
  private readonly prerequisites = new Map<Guid, readonly Guid[]>();
  private readonly prohibitedEverywhere: ReadonlySet<string>;
  private readonly prohibitedByPlan = new Map<Guid, ReadonlySet<string>>();
  private readonly planNames = new Map<Guid, string>();
  /** The rule data as given (the operator API shows it, so a console can name the plans behind an error). */
  readonly rules: RuleData;

  constructor(data: CatalogData) {
    this.rules = data.rules;
    this.skus = data.skus.map((sku) => {
      const planNames = new Map(sku.servicePlans.map((p) => [p.servicePlanId, p.servicePlanName] as const));
      return {
        skuId: sku.skuId,
        skuPartNumber: sku.skuPartNumber,
        displayName: sku.displayName,
        assignableTo: sku.assignableTo,
        planIds: sku.servicePlans.map((p) => p.servicePlanId),
        planNames,
      };
    });
    for (const sku of this.skus) {
      this.skusById.set(sku.skuId, sku);
      this.skusByPartNumber.set(sku.skuPartNumber.toUpperCase(), sku);
      for (const [id, name] of sku.planNames) this.planNames.set(id, name);
    }
    this.mailboxPlans = new Set(data.rules.mailboxPlans);
    for (const [a, b] of data.rules.mutuallyExclusive) {
      this.addExclusion(a, b);
      this.addExclusion(b, a);
    }
    for (const dependency of data.rules.dependencies) {
      this.prerequisites.set(dependency.servicePlanId, dependency.requiresAnyOf);
    }
    this.prohibitedEverywhere = new Set(data.rules.prohibitedUsageLocations.allPlans);
    for (const entry of data.rules.prohibitedUsageLocations.byPlan) {
      this.prohibitedByPlan.set(entry.servicePlanId, new Set(entry.countries));
    }
  }

  sku(skuId: Guid): Sku | undefined {
    return this.skusById.get(skuId);
  }

  skuByPartNumber(partNumber: string): Sku | undefined {
    return this.skusByPartNumber.get(partNumber.toUpperCase());
  }

  planName(planId: Guid): string | undefined {
    return this.planNames.get(planId);
  }

  isMailboxPlan(planId: Guid): boolean {
    return this.mailboxPlans.has(planId);
  }

  /** Plans that may not be held together with `planId`. */
  exclusionsOf(planId: Guid): ReadonlySet<Guid> {
    return this.exclusions.get(planId) ?? NO_PLANS;
  }

  /** The plans of which at least one must be enabled for `planId` to work, or undefined when it needs none. */
  prerequisitesOf(planId: Guid): readonly Guid[] | undefined {
    return this.prerequisites.get(planId);
  }

  isProhibitedIn(planId: Guid, country: string): boolean {
    const code = country.toUpperCase();
    return this.prohibitedEverywhere.has(code) || (this.prohibitedByPlan.get(planId)?.has(code) ?? false);
  }

  /** The plans a choice of SKU enables: the SKU's plans minus the disabled ones, in catalog order. */
  enabledPlans(skuId: Guid, disabledPlans: readonly Guid[]): Guid[] {
    const sku = this.skusById.get(skuId);
    if (!sku) return [];
    if (disabledPlans.length === 0) return [...sku.planIds];
    const disabled = new Set(disabledPlans);
    return sku.planIds.filter((id) => !disabled.has(id));
  }

  private addExclusion(a: Guid, b: Guid): void {
    let set = this.exclusions.get(a);
    if (!set) {
      set = new Set();
      this.exclusions.set(a, set);
    }
    set.add(b);
  }
}
