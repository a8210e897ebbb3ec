import type { z } from 'zod';
import { badRequest } from '../envelope.js';
import { assignLicenseSchema } from './wire.js';

/**
 * Checks a request body against a schema and reports the first problem the way Graph does: an unknown property,
 * a missing required one, or a value of the wrong shape. Nothing is changed when a body is refused.
 */
export function parseBody<T>(schema: z.ZodType<T>, value: unknown, resource: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`The request body must be a JSON object describing a ${resource}.`);
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw badRequest(`Invalid ${resource}.`);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    throw badRequest(`Property '${key}' does not exist as a declared property or extension property.`);
  }
  const path = issue.path.map(String).join('.');
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    throw badRequest(`Required property '${path}' is missing on the ${resource}.`);
  }
  throw badRequest(
    `Invalid value specified for property '${path}' of resource '${resource}'. ${issue.message}`,
  );
}

/** The `assignLicense` body: both lists are required (they may be empty), as on Graph. */
export function parseAssignLicense(value: unknown) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('The request body must be a JSON object with addLicenses and removeLicenses.');
  }
  const missing = ['addLicenses', 'removeLicenses'].filter((name) => !(name in value));
  if (missing.length > 0) {
    throw badRequest(
      `One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: ${missing.join(', ')}.`,
    );
  }
  return parseBody(assignLicenseSchema, value, 'assignLicense');
}
