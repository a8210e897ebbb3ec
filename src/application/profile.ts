// The user and device properties the directory mirror keeps beside the licensing facts: Graph's names and limits,
// accepted by the Graph API and the NDJSON import alike, stored in the record's profile, served on $select, and
// read by dynamic membership rules (src/application/dynamic-membership.ts).
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

/** Optional device properties, as POST /devices or an import line spells them (Graph's names). */
export const deviceProfileFields = {
  deviceOwnership: z.enum(['Company', 'Personal', 'Unknown']).nullable().optional(),
  enrollmentProfileName: text(256),
  managementType: text(64),
  isRooted: z.boolean().optional(),
  trustType: z.enum(['AzureAd', 'ServerAd', 'Workplace']).nullable().optional(),
  physicalIds: z.array(z.string().max(256)).max(50).optional(),
  extensionAttributes: extensionAttributesSchema.optional(),
};

const userProfileInput = z.object(userProfileFields);
export type UserProfileInput = z.infer<typeof userProfileInput>;
const deviceProfileInput = z.object(deviceProfileFields);
export type DeviceProfileInput = z.infer<typeof deviceProfileInput>;

/**
 * The profile given: only the properties of `fields` that are present (the input is usually a whole request body
 * or import line), with the extension attributes object (`objectKey`) flattened to their own names.
 */
function profileOf(fields: object, objectKey: string, input: Readonly<Record<string, unknown>>): Profile {
  const profile: Record<string, Profile[string]> = {};
  for (const key of Object.keys(fields)) {
    const value = input[key];
    if (value === undefined || key === objectKey) continue;
    profile[key] = value as Profile[string];
  }
  const attributes = input[objectKey];
  if (attributes && typeof attributes === 'object') {
    for (const [name, value] of Object.entries(attributes)) {
      if (typeof value === 'string' || value === null) profile[name] = value;
    }
  }
  return profile;
}

export function userProfileOf(input: UserProfileInput): Profile {
  return profileOf(userProfileFields, 'onPremisesExtensionAttributes', input);
}

export function deviceProfileOf(input: DeviceProfileInput): Profile {
  return profileOf(deviceProfileFields, 'extensionAttributes', input);
}

/** A profile property as text, or null. */
export function profileText(profile: Profile, name: string): string | null {
  const value = profile[name];
  return typeof value === 'string' ? value : null;
}

/** A profile property holding several values (an empty list when absent). */
export function profileList(profile: Profile, name: string): string[] {
  const value = profile[name];
  return Array.isArray(value) ? [...value] : [];
}
