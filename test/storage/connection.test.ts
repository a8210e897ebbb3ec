// How app settings name a storage account (src/storage/connection.ts), as the Functions runtime reads them: a
// connection string wins; otherwise service URIs (explicit ones over __accountName) and the credential settings.
import { ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { devConnectionString, storageAccountFrom } from '../../src/storage/connection.js';

const prefix = 'AzureWebJobsStorage';

function identity(env: Record<string, string>) {
  const account = storageAccountFrom(prefix, env);
  if (account?.kind !== 'identity')
    throw new Error(`expected an identity-based account, got ${account?.kind}`);
  return account;
}

describe('storageAccountFrom', () => {
  it('is undefined when nothing is set, and a connection string when one is (it wins over identity settings)', () => {
    expect(storageAccountFrom(prefix, {})).toBeUndefined();
    expect(storageAccountFrom(prefix, { AzureWebJobsStorage: '  ' })).toBeUndefined();
    expect(
      storageAccountFrom(prefix, {
        AzureWebJobsStorage: 'UseDevelopmentStorage=true',
        AzureWebJobsStorage__accountName: 'x',
      }),
    ).toEqual({ kind: 'connectionString', connectionString: devConnectionString() });
  });

  it('builds the public-cloud URIs from __accountName; explicit service URIs win', () => {
    expect(identity({ AzureWebJobsStorage__accountName: 'contoso' })).toMatchObject({
      tableServiceUri: 'https://contoso.table.core.windows.net',
      queueServiceUri: 'https://contoso.queue.core.windows.net',
    });
    expect(
      identity({
        AzureWebJobsStorage__accountName: 'contoso',
        AzureWebJobsStorage__queueServiceUri: 'https://queues.example/acct/',
      }),
    ).toMatchObject({
      tableServiceUri: 'https://contoso.table.core.windows.net',
      queueServiceUri: 'https://queues.example/acct',
    });
  });

  it('says which setting is missing, and refuses http URIs (no bearer tokens over plain http)', () => {
    expect(() =>
      storageAccountFrom(prefix, { AzureWebJobsStorage__tableServiceUri: 'https://t.example' }),
    ).toThrow('needs AzureWebJobsStorage__queueServiceUri');
    expect(() =>
      storageAccountFrom(prefix, {
        AzureWebJobsStorage__tableServiceUri: 'http://127.0.0.1:10002/devstoreaccount1',
        AzureWebJobsStorage__queueServiceUri: 'https://q.example',
      }),
    ).toThrow('must be an https:// URI');
  });

  it('chooses the credential as the runtime does', () => {
    const base = { AzureWebJobsStorage__accountName: 'contoso' };
    const user = identity({
      ...base,
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: 'c1',
    });
    expect(user.credential).toBeInstanceOf(ManagedIdentityCredential);
    expect(user.credentialKind).toBe('the managed identity with client id c1');
    const system = identity({ ...base, AzureWebJobsStorage__credential: 'ManagedIdentity' });
    expect(system.credential).toBeInstanceOf(ManagedIdentityCredential);
    expect(system.credentialKind).toBe("the app's managed identity");
    const principal = identity({
      ...base,
      AzureWebJobsStorage__tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      AzureWebJobsStorage__clientId: 'c2',
      AzureWebJobsStorage__clientSecret: 's',
    });
    expect(principal.credential).toBeInstanceOf(ClientSecretCredential);
    expect(identity(base).credential).toBeInstanceOf(DefaultAzureCredential);
    expect(() => identity({ ...base, AzureWebJobsStorage__credential: 'azurecli' })).toThrow(
      '__credential must be "managedidentity"',
    );
  });

  it('reads other connection names the same way', () => {
    expect(
      storageAccountFrom('Jobs', {
        Jobs__queueServiceUri: 'https://q.example',
        Jobs__tableServiceUri: 'https://t.example',
      }),
    ).toMatchObject({ kind: 'identity', queueServiceUri: 'https://q.example' });
  });
});
