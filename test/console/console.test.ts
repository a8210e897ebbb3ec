// The Licenses console in a real browser (Debian's Chromium, driven by playwright-core) against the running
// service: an admin signs in, creates a tenant, buys licenses, brings in a directory, licenses groups after a
// preview, watches them finish, sees a CountViolation explained and healed by buying more, previews a conflicting
// product and sees the prediction come true, and reads a user's assignment paths. Outcomes are checked through the
// Graph API, not through the console's own code.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertReceiver } from '../../src/simulator/alert-receiver.js';
import { ADMIN_API_KEY, items, type Service, startService, str } from '../api/support.js';
import { waitFor } from '../support/index.js';
import {
  controlsSettled,
  launchBrowser,
  newPage,
  STEP_TIMEOUT_MS,
  unlabelledControls,
  unreachableByKeyboard,
} from './browser.js';

/** Where the screenshots go: docs/console/ when CONSOLE_SCREENSHOTS names it, else a temporary folder. */
const SHOTS = process.env.CONSOLE_SCREENSHOTS ?? path.join(tmpdir(), `console-shots-${process.pid}`);

let service: Service;
let browser: Browser;
beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // Alerts are decided a second after the work that calls for them (30 s by default), so the test sees one soon.
  [service, browser] = await Promise.all([startService({ ALERT_DEBOUNCE_SECONDS: '1' }), launchBrowser()]);
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

/** Text and counts that the page reaches within a step's time (the page updates as work progresses). */
const text = (locator: Locator) => expect.poll(() => locator.textContent(), { timeout: STEP_TIMEOUT_MS });
const count = (locator: Locator) => expect.poll(() => locator.count(), { timeout: STEP_TIMEOUT_MS });

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** A Graph call as any client would make it, with a token the operator API mints for the tenant. */
async function graph(tenantId: string, pathAndQuery: string) {
  const minted = await service.manage('POST', `/tenants/${tenantId}/tokens`, {});
  const token = str((minted.json as { access_token?: unknown }).access_token);
  const answer = await service.graphRaw('GET', `/${pathAndQuery}`, { token });
  expect(answer.status, answer.text).toBe(200);
  return answer.json;
}

const HR = '0b7f0a9e-0000-4000-8000-000000000001';
const SALES = '0b7f0a9e-0000-4000-8000-000000000002';
const CONTRACTORS = '0b7f0a9e-0000-4000-8000-000000000003';

function directory(): string {
  const lines: object[] = [
    { type: 'group', id: HR, displayName: 'HR Department' },
    { type: 'group', id: SALES, displayName: 'Sales' },
    { type: 'group', id: CONTRACTORS, displayName: 'Contractors' },
  ];
  for (const name of ['Adele', 'Bianca', 'Cosmo']) {
    const memberOf = name === 'Adele' ? [HR, CONTRACTORS] : [HR];
    lines.push({
      type: 'user',
      userPrincipalName: `${name.toLowerCase()}@contoso.com`,
      displayName: `${name} Vance`,
      usageLocation: 'US',
      memberOf,
    });
  }
  for (const name of ['Diego', 'Emily']) {
    lines.push({
      type: 'user',
      userPrincipalName: `${name.toLowerCase()}@contoso.com`,
      displayName: `${name} Braun`,
      usageLocation: 'US',
      memberOf: [SALES],
    });
  }
  lines.push({
    type: 'user',
    userPrincipalName: 'frank@contoso.com',
    displayName: 'Frank Kim',
    usageLocation: 'US',
    memberOf: [CONTRACTORS],
  });
  return lines.map((line) => JSON.stringify(line)).join('\n');
}

/** Signs in with the operator key (pressing Enter in the key field) and opens an existing tenant. */
async function signIn(page: Page, tenantId: string) {
  await page.goto(`${service.url}/api/console/`);
  await page.getByLabel('Operator key').fill(ADMIN_API_KEY);
  await page.keyboard.press('Enter');
  await page
    .getByRole('button', { name: /^Open / })
    .first()
    .waitFor();
  await page
    .getByRole('row', { name: new RegExp(tenantId) })
    .getByRole('button')
    .click();
  await page.getByRole('heading', { name: 'All products', level: 1 }).waitFor();
}

async function openGroup(page: Page, name: string) {
  await page.getByRole('tab', { name: 'Groups' }).click();
  await page.getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

async function buy(page: Page, product: string, units: number) {
  await page.getByRole('tab', { name: 'All products' }).click();
  const existing = page.getByRole('button', { name: `Change licenses of ${product}` });
  if (await existing.count()) await existing.click();
  else {
    await page.getByRole('button', { name: 'Buy licenses' }).click();
    await page.getByRole('dialog').getByLabel('Product', { exact: true }).selectOption({ label: product });
  }
  await page.getByRole('dialog').getByLabel('Licenses owned (enabled)').fill(String(units));
  await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
  await page.getByRole('dialog').waitFor({ state: 'detached' });
}

/** Opens Assign licenses, picks the product, reviews, and returns the preview region (not yet confirmed). */
async function review(page: Page, product: string) {
  await page.getByRole('button', { name: 'Assign licenses' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Product', { exact: true }).selectOption({ label: product });
  await dialog.getByRole('button', { name: 'Review' }).click();
  const preview = dialog.getByRole('region', { name: 'Preview' });
  await preview.waitFor();
  return { dialog, preview };
}

async function waitForStatus(page: Page, status: string, timeout = 60_000) {
  await page.locator(`[data-status="${status}"]`).waitFor({ timeout });
}

describe('the Licenses console', () => {
  it('takes an admin from sign-in to licensed groups, errors explained and healed, and predictions that come true', async () => {
    const { page, problems } = await newPage(browser);
    await page.goto(`${service.url}/api/console/`);

    // Sign in with the operator key, then create a tenant.
    await page.getByLabel('Operator key').fill(ADMIN_API_KEY);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Organization name').fill('Contoso');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('heading', { name: 'All products', level: 1 }).waitFor();
    const tenants = items((await service.manage('GET', '/tenants')).json);
    const tenantId = str(tenants.find((t) => t.displayName === 'Contoso')?.id);

    // Buy 4 Office 365 E3 and 5 Office 365 E1, and import the directory.
    await buy(page, 'Office 365 E3', 4);
    await buy(page, 'Office 365 E1', 5);
    await page.getByRole('tab', { name: 'Users' }).click();
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByLabel('NDJSON, one object a line').fill(directory());
    await page.getByRole('dialog').getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Imported 6 users, 3 groups');
    await page.getByRole('button', { name: 'Close' }).click();

    // HR Department (3 members) gets E3: the preview says 3 seats needed, none short; the bar reaches the end.
    await openGroup(page, 'HR Department');
    {
      const { dialog, preview } = await review(page, 'Office 365 E3');
      await text(preview).toContain('3 members evaluated');
      await text(preview.getByRole('row').nth(1)).toContain(['Office 365 E3', '3', '0', '4', '0'].join(''));
      await text(preview).toContain('Every member would get the licenses');
      await shot(page, 'preview');
      await dialog.getByRole('button', { name: 'Assign' }).click();
    }
    await waitForStatus(page, 'allLicensesAssigned');
    await page.getByText('3 of 3 members have their licenses').waitFor();

    // Sales (2 members) gets E3 with one seat left: one member waits in CountViolation, explained on the page.
    await openGroup(page, 'Sales');
    {
      const { dialog, preview } = await review(page, 'Office 365 E3');
      await text(preview.locator('[data-error="CountViolation"]')).toContain('Not enough licenses1');
      await dialog.getByRole('button', { name: 'Assign' }).click();
    }
    await waitForStatus(page, 'errorsAndIssues');
    const waiting = page.getByRole('list', { name: 'Members with license errors' }).getByRole('listitem');
    await count(waiting).toBe(1);
    await text(waiting).toContain('Not enough licenses');
    await text(waiting).toContain('Every Office 365 E3 license the organization owns is in use');
    await text(waiting).toContain('Fix: Buy more licenses');
    await shot(page, 'group-errors');
    const salesErrors = items(await graph(tenantId, `groups/${SALES}/membersWithLicenseErrors`));
    expect(salesErrors).toHaveLength(1);

    // The waiting room lists them; buying one more license heals them.
    await page.getByRole('tab', { name: 'Errors & waiting' }).click();
    await text(page.getByRole('list', { name: 'Waiting room of Office 365 E3' })).toContain(
      str(salesErrors[0]?.displayName),
    );
    await shot(page, 'errors');
    await buy(page, 'Office 365 E3', 5);
    await openGroup(page, 'Sales');
    await waitForStatus(page, 'allLicensesAssigned');
    expect(items(await graph(tenantId, `groups/${SALES}/membersWithLicenseErrors`))).toHaveLength(0);

    // Contractors (Adele, who has E3 through HR, and Frank) gets E1: E1's Exchange conflicts with E3's. The
    // preview predicts exactly who; the assignment ends as predicted.
    await openGroup(page, 'Contractors');
    const { dialog, preview } = await review(page, 'Office 365 E1');
    const predicted = preview.locator('[data-error="MutuallyExclusiveViolation"]');
    await text(predicted).toContain('Conflicting service plans1Adele Vance');
    await shot(page, 'preview-conflict');
    await dialog.getByRole('button', { name: 'Assign' }).click();
    await waitForStatus(page, 'errorsAndIssues');
    const conflicted = items(
      await graph(
        tenantId,
        `groups/${CONTRACTORS}/membersWithLicenseErrors?$select=displayName,licenseAssignmentStates`,
      ),
    );
    expect(conflicted.map((m) => m.displayName)).toEqual(['Adele Vance']);
    const explained = page.getByRole('list', { name: 'Members with license errors' }).getByRole('listitem');
    await text(explained).toContain('Conflicting service plans');
    await text(explained).toMatch(
      /EXCHANGE_S_STANDARD conflicts with EXCHANGE_S_ENTERPRISE in Office 365 E3/,
    );
    await shot(page, 'group');

    // Adele's assignment paths: E3 inherited from HR Department (active), E1 from Contractors (in error).
    await explained.getByRole('link', { name: 'Adele Vance' }).click();
    await page.getByRole('heading', { name: 'Adele Vance', level: 1 }).waitFor();
    const licenses = page.getByRole('table', { name: 'Licenses and assignment paths' });
    await text(licenses.getByRole('row', { name: /^Office 365 E3/ })).toContain(
      'Inherited (HR Department) Active',
    );
    await text(licenses.getByRole('row', { name: /^Office 365 E1/ })).toContain(
      'Inherited (Contractors) Conflicting service plans',
    );
    await shot(page, 'user');

    // The product page: licensed groups with their status, licensed users paged.
    await page.getByRole('tab', { name: 'All products' }).click();
    await text(page.getByRole('table', { name: 'Products' })).not.toContain('…');
    await shot(page, 'products');
    await page.getByRole('link', { name: 'Office 365 E3' }).click();
    await text(page.getByRole('table', { name: 'Licensed groups' })).toContain('HR Department');
    await count(page.getByRole('list', { name: 'Licensed users' }).getByRole('listitem')).toBe(5);
    await shot(page, 'product');
    await page.getByRole('tab', { name: 'Audit log' }).click();
    await page.getByLabel('Activity').selectOption('Set group license');
    await count(page.getByRole('list', { name: 'Audit records' }).getByRole('listitem')).toBe(3);
    await shot(page, 'audit');

    expect(problems).toEqual([]);
    expect(service.unexpectedErrors()).toEqual([]);
  }, 240_000);

  it('creates an alert whose receiver answers the handshake, and shows the delivery a license error caused', async () => {
    const { page, problems } = await newPage(browser);
    const receiver = await startAlertReceiver();
    try {
      const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 1 } });
      await signIn(page, tenant.id);
      await page.getByRole('tab', { name: 'Alerts' }).click();
      await page.getByLabel('Notification URL').fill(receiver.url);
      await page.getByRole('button', { name: 'Create alert' }).click();
      await text(page.getByRole('main')).toContain('Its signing secret, shown this once');
      expect(receiver.handshakes).toHaveLength(1);

      // Two members, one seat: one waits in CountViolation, which the next alert pass reports.
      const group = await tenant.createGroup('Pilot');
      await tenant.importUsers(2, { memberOf: [group] });
      await tenant.graph.api(`/groups/${group}/assignLicense`).post({
        addLicenses: [{ skuId: service.catalog.skuId('ENTERPRISEPACK'), disabledPlans: [] }],
        removeLicenses: [],
      });
      await tenant.waitIdle();
      await waitFor(() => receiver.deliveries.length > 0, { timeoutMs: 30_000 });
      await page.reload();
      const log = page.getByRole('table', { name: `Deliveries to ${receiver.url}` });
      await text(log).toContain('License errors appeared or grew');
      await text(log).toContain('delivered');
      await shot(page, 'alerts');
      expect(problems).toEqual([]);
    } finally {
      await receiver.close();
    }
  }, 120_000);

  it('labels every control and reaches each by keyboard', async () => {
    const { page, problems } = await newPage(browser);
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 3 } });
    const group = await tenant.createGroup('Finance');
    await tenant.importUsers(2, { memberOf: [group] });
    await signIn(page, tenant.id);
    for (const hash of [
      '#/products',
      '#/groups',
      `#/groups/${group}`,
      '#/users',
      '#/errors',
      '#/audit',
      '#/alerts',
    ]) {
      await page.evaluate((h) => {
        (globalThis as unknown as { location: { hash: string } }).location.hash = h;
      }, hash);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.waitForLoadState('networkidle', { timeout: STEP_TIMEOUT_MS });
      await controlsSettled(page);
      expect(await unlabelledControls(page), hash).toEqual([]);
      const unreachable = await unreachableByKeyboard(page);
      expect(unreachable, hash).toEqual([]);
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
