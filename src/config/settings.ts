/**
 * The app's settings, read once from the environment (`local.settings.json` `Values` locally, app settings in
 * Azure). Required values fail at first use with a message that says what to set.
 */
export interface Settings {
  /** Storage account connection string (`UseDevelopmentStorage=true` means local Azurite). */
  readonly storageConnectionString: string;
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
    storageConnectionString: required(
      'AzureWebJobsStorage',
      'Set it to a storage connection string, or to UseDevelopmentStorage=true for Azurite (see local.settings.example.json).',
    ),
    adminApiKey: required('ADMIN_API_KEY', 'Set it to the key admin callers send in x-functions-key.'),
    tokenSigningKey: required(
      'GRAPH_TOKEN_SIGNING_KEY',
      'Set it to a secret of at least 32 characters used to sign access tokens.',
    ),
    storagePrefix: storagePrefix(env),
  };
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
