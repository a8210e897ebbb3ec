// C1 (performance.md): the Licenses console on a 100,000-user tenant. The Product page of a SKU held by nine in
// ten members of a 100,000-member group is opened in headless Chromium (Debian's package, driven by playwright-core) and
// timed from navigation to its first paint with data: the licensed groups and the first page of licensed users (the
// groups' status, which counts every member's outcome, follows and is timed too). The target is under 2 s; the page must read the users a page at a time, never the whole group.
import { existsSync } from 'node:fs';
import { graphClient, type OperatorClient } from '../simulator/service.js';
import { CHROMIUM, launchChromium } from './chromium.js';
import type { PreviewTenant } from './preview.js';
import { E3 } from './workloads.js';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/** Licenses the prepared group with E3 and waits until its job is done (not timed). */
export async function licenseForConsole(operator: OperatorClient, prepared: PreviewTenant): Promise<void> {
  await graphClient(operator.baseUrl, prepared.token)
    .api(`/groups/${prepared.groupId}/assignLicense`)
    .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
  await operator.waitIdle(prepared.tenantId, 30 * 60_000);
}

export interface ConsoleFirstPaint {
  /** Navigation to the licensed groups and the first licensed users on screen, in a fresh page. */
  readonly seconds: number;
  /** Navigation to the groups' processing status on screen (it follows the first paint). */
  readonly statusSeconds: number;
  /** The same, the page opened a second time (bundle cached, API warm). */
  readonly warmSeconds: number;
  /** Rows of licensed users in the page at that moment: a page of the list, not the group. */
  readonly rowsInPage: number;
  /** Requests the page made for licensed users until then. */
  readonly userRequests: number;
}

export async function runConsoleFirstPaint(
  operator: OperatorClient,
  adminKey: string,
  prepared: PreviewTenant,
): Promise<ConsoleFirstPaint> {
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    // Signed in already, as after the sign-in page: the key and tenant are what that page keeps in sessionStorage.
    const tenant = {
      id: prepared.tenantId,
      displayName: 'Bench',
      countryLetterCode: 'US',
      licenseErrorHealing: 'automatic',
    };
    await context.addInitScript(
      ([key, tenantJson]) => {
        const storage = (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } })
          .sessionStorage;
        storage.setItem('licenses-console.operator-key', key);
        storage.setItem('licenses-console.tenant', tenantJson);
      },
      [adminKey, JSON.stringify(tenant)] as const,
    );
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    let userRequests = 0;
    page.on('request', (request) => {
      if (/\/v1\.0\/users\?/.test(request.url())) userRequests++;
    });
    const open = async () => {
      const started = performance.now();
      await page.goto(`${operator.baseUrl}/api/console/#/products/${E3}`);
      await page.getByRole('table', { name: 'Licensed groups' }).getByText('Everyone').waitFor();
      await page.getByRole('list', { name: 'Licensed users' }).getByRole('listitem').first().waitFor();
      const painted = (performance.now() - started) / 1000;
      // The group's status comes from licenseProcessingDetails, which counts the outcome over every member.
      await page
        .getByText('All licenses assigned')
        .or(page.getByText(/Errors & issues/))
        .first()
        .waitFor();
      return { painted, status: (performance.now() - started) / 1000 };
    };
    const first = await open();
    const rowsInPage = await page.getByRole('list', { name: 'Licensed users' }).getByRole('listitem').count();
    const firstRequests = userRequests;
    await page.goto('about:blank');
    const warm = await open();
    return {
      seconds: first.painted,
      statusSeconds: first.status,
      warmSeconds: warm.painted,
      rowsInPage,
      userRequests: firstRequests,
    };
  } finally {
    await browser.close();
  }
}
