// The user properties the directory mirror keeps beside the licensing facts: Graph's names and limits, accepted by
// POST/PATCH /users and the NDJSON import alike, stored in the record's profile, served on $select, and read by
// dynamic membership rules (src/application/dynamic-membership.ts).
import { z } from 'zod';
import type { Profile } from './records.js';

const text = (max: number) => z.string().max(max).nullable().optional();

/** `onPremisesExtensionAttributes`: Graph's extensionAttribute1…15 (writable for cloud users), kept flat. */
export const EXTENSION_ATTRIBUTES = Array.from({ length: 15 }, (_, i) => `extensionAttribute${i + 1}`);

export const extensionAttributesSchema = z
  .object(Object.fromEntries(EXTENSION_ATTRIBUTES.map((name) => [name, text(1024)])))
  .strict();

/** Optional user properties, as a request body or an import line spells them. */
export const userProfileFields = {
  givenName: text(64),
  surname: text(64),
  jobTitle: text(128),
  mail: text(256),
  mobilePhone: text(64),
  officeLocation: text(128),
  preferredLanguage: text(16),
  businessPhones: z.array(z.string().max(64)).max(1).optional(),
  city: text(128),
  companyName: text(64),
  country: text(128),
  employeeId: text(16),
  state: text(128),
  userType: z.enum(['Member', 'Guest']).nullable().optional(),
  otherMails: z.array(z.string().max(256)).max(50).optional(),
  onPremisesExtensionAttributes: extensionAttributesSchema.optional(),
};

const profileInput = z.object(userProfileFields);
export type UserProfileInput = z.infer<typeof profileInput>;

/** The profile given (only the properties present; extension attributes flattened to their own names). */
export function userProfileOf(input: UserProfileInput): Profile {
  const profile: Record<string, Profile[string]> = {};
  // Only the profile's own properties: the input is usually a whole request body or import line.
  for (const key of Object.keys(userProfileFields) as (keyof UserProfileInput)[]) {
    const value = input[key];
    if (value === undefined || key === 'onPremisesExtensionAttributes') continue;
    profile[key] = value as Profile[string];
  }
  for (const [name, value] of Object.entries(input.onPremisesExtensionAttributes ?? {})) {
    if (value !== undefined) profile[name] = value;
  }
  return profile;
}

/** A profile property as text, or null. */
export function profileText(profile: Profile, name: string): string | null {
  const value = profile[name];
  return typeof value === 'string' ? value : null;
}
