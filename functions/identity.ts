// The sign-in authority (client credentials, as Entra ID's v2.0 endpoints): what @azure/identity and MSAL call with
// authorityHost https://127.0.0.1:7071/api/identity. Anonymous: the token endpoint checks the app's secret itself.
import { app } from '@azure/functions';
import { openIdConfiguration, signingKeys, token } from '../src/api/identity.js';

app.http('identityOpenIdConfiguration', {
  route: 'identity/{tenant}/v2.0/.well-known/openid-configuration',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: openIdConfiguration,
});

app.http('identitySigningKeys', {
  route: 'identity/{tenant}/discovery/v2.0/keys',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: signingKeys,
});

app.http('identityToken', {
  route: 'identity/{tenant}/oauth2/v2.0/token',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: token,
});
