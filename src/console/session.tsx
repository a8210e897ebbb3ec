// Who the console is signed in as: the operator key and the chosen tenant, kept in this tab's sessionStorage only
// (closing the tab signs out), and the API clients built on them.
import { createContext, useContext } from 'react';
import { GraphApi, OperatorApi, type Tenant } from './api.js';
import type { Catalog } from './wording.js';

export interface Session {
  readonly operator: OperatorApi;
  readonly tenant: Tenant;
  readonly graph: GraphApi;
  readonly catalog: Catalog;
}

const KEY = 'licenses-console.operator-key';
const TENANT = 'licenses-console.tenant';

export function storedSignIn(): { key: string; tenant: Tenant | undefined } | undefined {
  const key = sessionStorage.getItem(KEY);
  if (!key) return undefined;
  const tenant = sessionStorage.getItem(TENANT);
  return { key, tenant: tenant ? (JSON.parse(tenant) as Tenant) : undefined };
}

export function storeSignIn(key: string, tenant: Tenant | undefined): void {
  sessionStorage.setItem(KEY, key);
  if (tenant) sessionStorage.setItem(TENANT, JSON.stringify(tenant));
  else sessionStorage.removeItem(TENANT);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(TENANT);
}

export async function openSession(key: string, tenant: Tenant): Promise<Session> {
  const operator = new OperatorApi(key);
  const found = await operator.catalog();
  const catalog = found as unknown as { value: Catalog['skus']; rules?: Catalog['rules'] };
  return {
    operator,
    tenant,
    graph: new GraphApi(operator, tenant.id),
    catalog: { skus: catalog.value, rules: catalog.rules },
  };
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}
