/**
 * The app's settings, read once from the environment (`local.settings.json` `Values` locally, app settings in
 * Azure). Required values fail at first use with a message that says what to set.
 */
import { type StorageAccount, storageAccountFrom } from '../storage/connection.js';

export interface Settings {
  /**
   * The storage account, from `AzureWebJobsStorage` (a connection string; `UseDevelopmentStorage=true` means local
   * Azurite) or its identity-based settings (`AzureWebJobsStorage__accountName`, …).
   */
  readonly storage: StorageAccount;
  /** Key for the operator API (`x-functions-key`). */
  readonly adminApiKey: string;
  /** HS256 key that signs and verifies Graph-style access tokens. */
  readonly tokenSigningKey: string;
  /** Prefix for table and queue names, so several deployments or test runs can share one storage account. */
  readonly storagePrefix: string;
}

const PREFIX_PATTERN = /^[a-z][a-z0-9]{0,23}$/;

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const required = (name: string, hint: string): string => {
    const value = env[name];
    if (value === undefined || value.trim() === '') {
      throw new Error(`Setting ${name} is missing. ${hint}`);
    }
    return value;
  };
  return {
    storage: storage(env),
    adminApiKey: required('ADMIN_API_KEY', 'Set it to the key admin callers send in x-functions-key.'),
    tokenSigningKey: required(
      'GRAPH_TOKEN_SIGNING_KEY',
      'Set it to a secret of at least 32 characters used to sign access tokens.',
    ),
    storagePrefix: storagePrefix(env),
  };
}

function storage(env: NodeJS.ProcessEnv): StorageAccount {
  const account = storageAccountFrom('AzureWebJobsStorage', env);
  if (!account) {
    throw new Error(
      'Setting AzureWebJobsStorage is missing. Set it to a storage connection string (UseDevelopmentStorage=true ' +
        'for Azurite, see local.settings.example.json), or connect with an identity: ' +
        'AzureWebJobsStorage__accountName (or __tableServiceUri and __queueServiceUri), with __credential=managedidentity on Azure.',
    );
  }
  return account;
}

/** The table/queue name prefix alone: queue registrations need it at load time, before storage is reachable. */
export function storagePrefix(env: NodeJS.ProcessEnv = process.env): string {
  const prefix = (env.STORAGE_PREFIX ?? '').trim();
  if (prefix !== '' && !PREFIX_PATTERN.test(prefix)) {
    throw new Error(
      `Setting STORAGE_PREFIX "${prefix}" is invalid: use a lowercase letter followed by up to 23 lowercase letters or digits.`,
    );
  }
  return prefix;
}

let cached: Settings | undefined;

/** The process's settings, read on first use. */
export function settings(): Settings {
  cached ??= readSettings();
  return cached;
}
