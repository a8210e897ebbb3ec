// Object ids are GUIDs (8-4-4-4-12 hexadecimal digits). One definition for every layer: the engine's own checks,
// the HTTP edge's path and body validation, the catalog, messages.
import type { Guid } from './model.js';

/** A GUID's text in either case, to compose larger patterns (OData filters, `@odata.id` URLs). */
export const GUID_TEXT = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** A whole string that is a GUID, in either case. */
export const GUID_PATTERN = new RegExp(`^${GUID_TEXT}$`);

export function isGuid(value: string): boolean {
  return GUID_PATTERN.test(value);
}

/** The canonical (lower-case) form of a GUID, or undefined when it is not one. */
export function normalizeGuid(value: string): Guid | undefined {
  const lower = value.trim().toLowerCase();
  return isGuid(lower) ? lower : undefined;
}
