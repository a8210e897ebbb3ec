import type { Client } from '@microsoft/microsoft-graph-client';
import { graphClient, OperatorClient, type ServiceAddress, type TenantInfo } from '../service.js';
import { type Catalog, loadCatalog } from './catalog.js';

export interface ScenarioOptions {
  /** `full`: the sizes of scenarios.md; `small`: scaled down, with the same checks. */
  readonly scale: 'full' | 'small';
  readonly log: (line: string) => void;
}

/** The first difference between what a scenario expects and what the service did. */
export class ScenarioFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioFailure';
  }
}

/** JSON with object keys sorted, so that equal values print (and compare) equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : canonical(value);
  return text === undefined ? 'undefined' : text.length > 1500 ? `${text.slice(0, 1500)}…` : text;
}

export interface TenantSpec {
  readonly displayName: string;
  readonly countryLetterCode: string;
  readonly licenseErrorHealing?: 'automatic' | 'manual';
}

/** Every wait of a scenario is bounded; the large group gets longer. */
export const IDLE_TIMEOUT_MS = 600_000;

/**
 * One playing of a scenario: its own fresh tenant, the operator API, the official Graph client with a token of that
 * tenant, the catalog, and the log. Steps and passed checks are printed as they happen; the first mismatch throws
 * a `ScenarioFailure` that names the scenario, the step, what was checked, what was expected and what came back.
 */
export class Scenario {
  private currentStep = 'setup';
  private readonly labels = new Map<string, string>();

  private constructor(
    readonly name: string,
    readonly service: ServiceAddress,
    readonly operator: OperatorClient,
    readonly tenant: TenantInfo,
    readonly graph: Client,
    readonly catalog: Catalog,
    readonly options: ScenarioOptions,
  ) {
    for (const sku of catalog.skus) this.labels.set(sku.skuId, sku.skuPartNumber);
  }

  static async open(
    name: string,
    service: ServiceAddress,
    options: ScenarioOptions,
    spec: TenantSpec,
  ): Promise<Scenario> {
    const operator = new OperatorClient(service.baseUrl, service.adminKey);
    const catalog = await loadCatalog(service);
    const tenant = await operator.createTenant(
      spec.displayName,
      spec.countryLetterCode,
      spec.licenseErrorHealing ?? 'automatic',
    );
    const token = await operator.token(tenant.id);
    const scenario = new Scenario(
      name,
      service,
      operator,
      tenant,
      graphClient(service.baseUrl, token),
      catalog,
      options,
    );
    scenario.log(
      '▸',
      `tenant "${tenant.displayName}" (${tenant.countryLetterCode}, ${tenant.licenseErrorHealing} healing) ${tenant.id}`,
    );
    return scenario;
  }

  /** Another fresh tenant for the same scenario (S3's manual-healing half), sharing the log and the name. */
  async another(spec: TenantSpec): Promise<Scenario> {
    return Scenario.open(this.name, this.service, this.options, spec);
  }

  get full(): boolean {
    return this.options.scale === 'full';
  }

  /** The size of something at this scale. */
  size(full: number, small: number): number {
    return this.full ? full : small;
  }

  private log(mark: string, text: string): void {
    this.options.log(`${this.name} ${mark} ${text}`);
  }

  /** Starts a step: printed, and named in any failure until the next step. */
  step(text: string): void {
    this.currentStep = text;
    this.log('▸', text);
  }

  /** A check that passed. */
  ok(text: string): void {
    this.log('✓', text);
  }

  /** Extra information (progress, timings) that is not a check. */
  note(text: string): void {
    this.log('·', text);
  }

  fail(what: string, expected: unknown, got: unknown): never {
    throw new ScenarioFailure(
      `${this.name} failed at step "${this.currentStep}": ${what}: expected ${shown(expected)}, got ${shown(got)}`,
    );
  }

  /** Fails unless `got` equals `expected` (deep, key order ignored); prints `passed` (default `what`) when equal. */
  expect(what: string, expected: unknown, got: unknown, passed?: string): void {
    if (canonical(expected) !== canonical(got)) this.fail(what, expected, got);
    if (passed !== '') this.ok(passed ?? `${what}: ${shown(got)}`);
  }

  /** Fails unless the two id sets are equal, naming the missing and the unexpected ids (by label). */
  expectSet(what: string, expected: Iterable<string>, got: Iterable<string>, passed?: string): void {
    const want = new Set(expected);
    const have = new Set(got);
    const missing = [...want].filter((id) => !have.has(id));
    const extra = [...have].filter((id) => !want.has(id));
    if (missing.length > 0 || extra.length > 0) {
      const sample = (ids: string[]) =>
        ids
          .slice(0, 5)
          .map((id) => this.label(id))
          .join(', ') + (ids.length > 5 ? `, … (${ids.length} in all)` : '');
      this.fail(
        what,
        `${want.size} ids`,
        `${have.size} ids` +
          (missing.length > 0 ? `; missing ${sample(missing)}` : '') +
          (extra.length > 0 ? `; unexpected ${sample(extra)}` : ''),
      );
    }
    if (passed !== '') this.ok(passed ?? `${what}: ${want.size}`);
  }

  /** Names ids in messages: SKU part numbers, group and user names the scenario registered. */
  remember(id: string, label: string): string {
    this.labels.set(id, label);
    return id;
  }

  label(id: string | null): string {
    if (id === null) return 'direct';
    return this.labels.get(id) ?? id;
  }

  /**
   * Waits until the tenant's queued work is done: three idle readings of the operator API's activity in a row, 40 ms
   * apart (bounded). The invariant check uses `OperatorClient.waitIdle`, which insists on half a second of quiet.
   */
  async idle(timeoutMs = IDLE_TIMEOUT_MS): Promise<void> {
    const started = Date.now();
    for (let streak = 0; streak < 3; ) {
      streak = (await this.operator.isIdle(this.tenant.id)) ? streak + 1 : 0;
      if (streak === 0 && Date.now() - started > timeoutMs)
        this.fail('the tenant to become idle', `within ${timeoutMs / 1000} s`, 'still busy');
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
  }

  /** Waits for the tenant to be quiet for half a second (`OperatorClient.waitIdle`), bounded. */
  async settle(timeoutMs = IDLE_TIMEOUT_MS): Promise<void> {
    await this.operator.waitIdle(this.tenant.id, timeoutMs);
  }
}
