// App registrations through the operator API (`/api/manage/tenants/{tid}/applications`), shaped like Graph's
// `application` with its `passwordCredentials` (the secret's text appears once, when it is created), and the sign-in
// details a script needs beside them.
import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import {
  addPassword,
  createApplication,
  deleteApplication,
  getApplication,
  listApplications,
  type NewPasswordCredential,
  removePassword,
  updateApplication,
} from '../application/applications.js';
import type { ApplicationRecord, PasswordCredentialRecord } from '../application/records.js';
import { GUID_PATTERN, isGuid } from '../engine/ids.js';
import { GraphError } from './envelope.js';
import { parseBody } from './graph/body.js';
import { parseJsonBody, readBody } from './http-adapter.js';
import { ADMIN_BODY_LIMIT, type ManageHandler, readJson, tenantIdOf } from './manage.js';
import { PERMISSIONS } from './tokens.js';

const roles = z.array(z.enum(PERMISSIONS)).max(PERMISSIONS.length);
const passwordCredential = z
  .object({
    displayName: z.string().max(256).nullable().optional(),
    endDateTime: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
const newApplicationSchema = z
  .object({
    displayName: z.string().trim().min(1).max(256),
    roles,
    passwordCredential: passwordCredential.optional(),
  })
  .strict();
const applicationPatchSchema = z
  .object({ displayName: z.string().trim().min(1).max(256).optional(), roles: roles.optional() })
  .strict();
const addPasswordSchema = z.object({ passwordCredential: passwordCredential.optional() }).strict();
const removePasswordSchema = z
  .object({ keyId: z.string().regex(GUID_PATTERN, 'expected a keyId (a GUID)') })
  .strict();

function passwordJson(password: PasswordCredentialRecord | NewPasswordCredential) {
  return {
    customKeyIdentifier: null,
    displayName: password.displayName,
    endDateTime: password.endDateTime,
    hint: password.hint,
    keyId: password.keyId,
    secretText: 'secretText' in password ? password.secretText : null,
    startDateTime: password.startDateTime,
  };
}

/** Graph's application, plus where and how to sign in with it. */
function applicationJson(app: ApplicationRecord, baseUrl: string) {
  const authorityHost = `${baseUrl}/api/identity`;
  return {
    id: app.id,
    appId: app.appId,
    displayName: app.displayName,
    roles: app.roles,
    createdDateTime: app.createdDateTime,
    passwordCredentials: app.passwordCredentials.map(passwordJson),
    signIn: {
      tenantId: app.tenantId,
      authorityHost,
      tokenEndpoint: `${authorityHost}/${app.tenantId}/oauth2/v2.0/token`,
      scope: 'https://graph.microsoft.com/.default',
    },
  };
}

function appIdOf(request: HttpRequest): string {
  const id = request.params.appId ?? '';
  if (!isGuid(id))
    throw new GraphError(404, 'Request_ResourceNotFound', `Application '${id}' does not exist.`);
  return id.toLowerCase();
}

const secretInput = (input: z.infer<typeof passwordCredential> | undefined) => ({
  ...(input?.displayName === undefined ? {} : { displayName: input.displayName }),
  ...(input?.endDateTime === undefined ? {} : { endDateTime: input.endDateTime }),
});

export const manageApplications: Partial<Record<string, ManageHandler>> = {
  GET: async (request, ctx, baseUrl) => ({
    status: 200,
    body: {
      value: (await listApplications(ctx, tenantIdOf(request))).map((app) => applicationJson(app, baseUrl)),
    },
  }),
  /** 201 with the app and its first secret — the only time the secret's text is shown. */
  POST: async (request, ctx, baseUrl) => {
    const tenantId = tenantIdOf(request);
    const input = parseBody(newApplicationSchema, await readJson(request), 'application');
    const { application, secret } = await createApplication(ctx, tenantId, {
      displayName: input.displayName,
      roles: input.roles,
      secret: secretInput(input.passwordCredential),
    });
    return {
      status: 201,
      body: {
        ...applicationJson(application, baseUrl),
        passwordCredentials: [passwordJson(secret)],
        clientSecret: secret.secretText,
      },
    };
  },
};

export const manageApplication: Partial<Record<string, ManageHandler>> = {
  GET: async (request, ctx, baseUrl) => ({
    status: 200,
    body: applicationJson(await getApplication(ctx, tenantIdOf(request), appIdOf(request)), baseUrl),
  }),
  PATCH: async (request, ctx, baseUrl) => {
    const patch = parseBody(applicationPatchSchema, await readJson(request), 'application');
    const app = await updateApplication(ctx, tenantIdOf(request), appIdOf(request), {
      ...(patch.displayName === undefined ? {} : { displayName: patch.displayName }),
      ...(patch.roles === undefined ? {} : { roles: patch.roles }),
    });
    return { status: 200, body: applicationJson(app, baseUrl) };
  },
  DELETE: async (request, ctx) => {
    await deleteApplication(ctx, tenantIdOf(request), appIdOf(request));
    return { status: 204 };
  },
};

/** Graph's `addPassword`: a new secret (200 with its text, shown once). */
export const manageApplicationAddPassword: Partial<Record<string, ManageHandler>> = {
  POST: async (request, ctx) => {
    const text = await readBody(request, ADMIN_BODY_LIMIT);
    const input = parseBody(
      addPasswordSchema,
      text.length === 0 ? {} : parseJsonBody(text, request.headers.get('content-type')),
      'addPassword request',
    );
    const secret = await addPassword(
      ctx,
      tenantIdOf(request),
      appIdOf(request),
      secretInput(input.passwordCredential),
    );
    return { status: 200, body: passwordJson(secret) };
  },
};

/** Graph's `removePassword` `{ keyId }`: that secret stops working at once (204). */
export const manageApplicationRemovePassword: Partial<Record<string, ManageHandler>> = {
  POST: async (request, ctx) => {
    const input = parseBody(removePasswordSchema, await readJson(request), 'removePassword request');
    await removePassword(ctx, tenantIdOf(request), appIdOf(request), input.keyId);
    return { status: 204 };
  },
};
