// The console's browser tests: Debian's Chromium (src/bench/chromium.ts) and what they check with it.
import type { Browser, Page } from 'playwright-core';

export { launchChromium as launchBrowser } from '../../src/bench/chromium.js';

/** Every wait in a browser test is bounded by this unless it says otherwise. */
export const STEP_TIMEOUT_MS = 15_000;

/** A page whose script errors fail the test that reads `problems`. */
export async function newPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { page, problems };
}

/**
 * The interactive elements of the page that have no accessible name, as Chromium's own accessibility tree computes
 * names (not the console's code): each as `role "text"`.
 */
export async function unlabelledControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
      nodes: {
        ignored: boolean;
        role?: { value?: string };
        name?: { value?: string };
        properties?: { name: string; value: { value?: unknown } }[];
      }[];
    };
    const interactive = new Set([
      'button',
      'link',
      'textbox',
      'searchbox',
      'combobox',
      'checkbox',
      'switch',
      'tab',
      'spinbutton',
      'menuitem',
      'radio',
      'slider',
    ]);
    return nodes
      .filter((node) => !node.ignored && interactive.has(String(node.role?.value)))
      .filter((node) => String(node.name?.value ?? '').trim() === '')
      .map((node) => `${String(node.role?.value)} without a name`);
  } finally {
    await cdp.detach();
  }
}

// What the in-page functions below touch of the DOM: the tests compile without the DOM's types (they would clash
// with Node's), so the few members used are declared here.
interface PageElement {
  readonly outerHTML: string;
  readonly tagName: string;
  readonly offsetParent: unknown;
  readonly disabled?: boolean;
  hasAttribute(name: string): boolean;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  closest(selector: string): unknown;
}
interface PageDocument {
  readonly activeElement: PageElement | null;
  readonly body: PageElement;
  querySelectorAll(selector: string): Iterable<PageElement>;
}
const PROBE = 'data-tab-probe';

/**
 * Waits until the page's controls stop changing: the same controls (tag, link, label) on three looks 200 ms apart. A
 * page can render rows after the network is idle (a virtual list lays its rows out once it knows its height), and
 * controls that appear while Tab is being pressed would be counted as unreachable.
 */
export async function controlsSettled(page: Page, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
  const snapshot = () =>
    page.evaluate(() => {
      const doc = (globalThis as unknown as { document: PageDocument }).document;
      return [...doc.querySelectorAll('button, a[href], input, select, textarea')]
        .map((el) => `${el.tagName} ${el.getAttribute('href') ?? ''} ${el.getAttribute('aria-label') ?? ''}`)
        .join('\n');
    });
  const until = Date.now() + timeoutMs;
  let last = await snapshot();
  let same = 0;
  while (same < 2) {
    if (Date.now() > until) throw new Error(`the page's controls kept changing for ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = await snapshot();
    same = now === last ? same + 1 : 0;
    last = now;
  }
}

/**
 * The enabled, visible controls that pressing Tab from the top of the page never reaches (Tab is pressed until
 * focus comes back around). A tab list is one stop, its tabs moved between with the arrow keys, so its tabs are left
 * out, as are a spin button's step buttons (its arrow keys); each control as the start of its HTML.
 */
export async function unreachableByKeyboard(page: Page, limit = 300): Promise<string[]> {
  const seen = new Set<string>();
  // A click on the page's top-left corner (not a control) starts keyboard navigation from the top, as for a user.
  await page.mouse.click(2, 2);
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate((probe) => {
      const doc = (globalThis as unknown as { document: PageDocument }).document;
      const el = doc.activeElement;
      if (!el || el === doc.body) return '';
      if (!el.hasAttribute(probe)) el.setAttribute(probe, String(Math.random()));
      return el.getAttribute(probe) ?? '';
    }, PROBE);
    // Focus left the page (past the last control) or came back to the first: every stop was visited. A control
    // with stops inside it (a date input's fields) repeats its id in between, which is fine.
    if (id === '' || (seen.size > 1 && id === seen.values().next().value)) break;
    seen.add(id);
  }
  return page.evaluate(
    ([probe, reached]) => {
      const doc = (globalThis as unknown as { document: PageDocument }).document;
      return (
        [...doc.querySelectorAll('button, a[href], input, select, textarea')]
          .filter((el) => !el.disabled && el.offsetParent !== null && !el.closest('[role="tablist"]'))
          // A spin button's step buttons are out of the Tab order by Fluent's design: ArrowUp/ArrowDown in its input.
          .filter((el) => !(el.getAttribute('tabindex') === '-1' && el.closest('.fui-SpinButton')))
          .filter((el) => !reached.includes(el.getAttribute(probe) ?? ''))
          .map((el) => el.outerHTML.slice(0, 160))
      );
    },
    [PROBE, [...seen]] as const,
  );
}
