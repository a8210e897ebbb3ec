// A Microsoft Graph script run against this service: signs in as an app registration with @azure/identity, then
// licenses a group with the v3 client (@microsoft/microsoft-graph-client) and a user with the Kiota SDK
// (@microsoft/msgraph-sdk), and pages a filtered user list with each SDK's own page iterator. Written as for Microsoft
// Graph: only the authority host and the Graph base URL differ (README, "License a group with the Graph SDK").
//
//   AZURE_TENANT_ID=… AZURE_CLIENT_ID=… AZURE_CLIENT_SECRET=… NODE_EXTRA_CA_CERTS=.certs/cert.pem \
//     node dist/examples/license-a-group.mjs
import { ClientSecretCredential } from '@azure/identity';
import { AzureIdentityAuthenticationProvider } from '@microsoft/kiota-authentication-azure';
import { Client, PageIterator } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { createGraphServiceClient, GraphRequestAdapter } from '@microsoft/msgraph-sdk';
import {
  createUserCollectionResponseFromDiscriminatorValue,
  type User,
} from '@microsoft/msgraph-sdk/models/index.js';
import { createODataErrorFromDiscriminatorValue } from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import { PageIterator as KiotaPageIterator } from '@microsoft/msgraph-sdk-core';
import '@microsoft/msgraph-sdk-users';

// For Microsoft Graph these would be https://login.microsoftonline.com and https://graph.microsoft.com.
const authorityHost = process.env.AZURE_AUTHORITY_HOST ?? 'https://127.0.0.1:7071/api/identity';
const graphBaseUrl = process.env.GRAPH_BASE_URL ?? 'https://127.0.0.1:7071/api';

const OFFICE_365_E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const EMS_E3 = 'efccb6f7-5641-4e0e-bd10-b4976e1bf68e';
const scopes = ['https://graph.microsoft.com/.default'];

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} (the app registration's tenant, appId and clientSecret).`);
  return value;
}

const credential = new ClientSecretCredential(
  required('AZURE_TENANT_ID'),
  required('AZURE_CLIENT_ID'),
  required('AZURE_CLIENT_SECRET'),
  // MSAL only knows Microsoft's sign-in hosts; for any other authority it must not look the host up there.
  { authorityHost, disableInstanceDiscovery: true },
);
const run = Date.now().toString(36);

// --- The v3 client, with its standard auth provider -------------------------------------------------------------
const graph = Client.initWithMiddleware({
  authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes }),
  baseUrl: graphBaseUrl,
  defaultVersion: 'v1.0',
  customHosts: new Set([new URL(graphBaseUrl).hostname]),
});

const group = await graph.api('/groups').post({
  displayName: `Sales ${run}`,
  mailEnabled: false,
  mailNickname: `sales-${run}`,
  securityEnabled: true,
});
for (let i = 1; i <= 3; i++) {
  const user = await graph.api('/users').post({
    accountEnabled: true,
    displayName: `Seller ${run} ${i}`,
    mailNickname: `seller-${run}-${i}`,
    userPrincipalName: `seller-${run}-${i}@contoso.example`,
    usageLocation: 'US',
    passwordProfile: { forceChangePasswordNextSignIn: true, password: `Pw-${run}-${i}!` },
  });
  await graph.api(`/groups/${group.id}/members/$ref`).post({
    '@odata.id': `${graphBaseUrl}/v1.0/directoryObjects/${user.id}`,
  });
}
await graph.api(`/groups/${group.id}/assignLicense`).post({
  addLicenses: [{ skuId: OFFICE_365_E3, disabledPlans: [] }],
  removeLicenses: [],
});
console.log(
  `Assigned Office 365 E3 to group ${group.displayName}; its members are licensed in the background.`,
);

let state = '';
for (let attempt = 0; state !== 'ProcessingComplete'; attempt++) {
  if (attempt === 120) throw new Error(`The group is still ${state} after a minute.`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const read = await graph.api(`/groups/${group.id}`).select('licenseProcessingState').get();
  state = read.licenseProcessingState?.state ?? '';
}

// Page through the group's licensed members, two at a time, with the v3 page iterator.
const licensed: string[] = [];
const firstPage = await graph
  .api('/users')
  .filter(`startswith(displayName,'Seller ${run}')`)
  .select('displayName,assignedLicenses')
  .top(2)
  .get();
await new PageIterator(
  graph,
  firstPage,
  (user: { displayName: string; assignedLicenses: { skuId: string }[] }) => {
    if (user.assignedLicenses.some((license) => license.skuId === OFFICE_365_E3))
      licensed.push(user.displayName);
    return true;
  },
).iterate();
console.log(`v3 client: ${licensed.length} licensed members: ${licensed.sort().join(', ')}`);

// --- The Kiota SDK, with its standard Azure Identity auth provider ----------------------------------------------
const adapter = new GraphRequestAdapter(
  new AzureIdentityAuthenticationProvider(
    credential,
    scopes,
    undefined,
    new Set([new URL(graphBaseUrl).hostname]),
  ),
);
adapter.baseUrl = `${graphBaseUrl}/v1.0`;
const kiota = createGraphServiceClient(adapter);

const manager = await kiota.users.post({
  accountEnabled: true,
  displayName: `Sales manager ${run}`,
  mailNickname: `sales-manager-${run}`,
  userPrincipalName: `sales-manager-${run}@contoso.example`,
  usageLocation: 'US',
  passwordProfile: { forceChangePasswordNextSignIn: true, password: `Pw-${run}-m!` },
});
if (!manager?.id) throw new Error('The user was not created.');
await kiota.users.byUserId(manager.id).assignLicense.post({
  addLicenses: [{ skuId: EMS_E3, disabledPlans: [] }],
  removeLicenses: [],
});

const salesPage = await kiota.users.get({
  queryParameters: {
    filter: `startswith(displayName,'S')`,
    select: ['displayName', 'assignedLicenses'],
    top: 2,
  },
});
if (!salesPage) throw new Error('No users came back.');
const everyone: string[] = [];
await new KiotaPageIterator<User>(
  adapter,
  { value: salesPage.value ?? [], odataNextLink: salesPage.odataNextLink ?? undefined },
  (user) => {
    if (user.displayName?.includes(run)) everyone.push(user.displayName);
    return true;
  },
  createUserCollectionResponseFromDiscriminatorValue,
  { XXX: createODataErrorFromDiscriminatorValue },
).iterate();
console.log(`Kiota SDK: ${everyone.length} users of this run: ${everyone.sort().join(', ')}`);
