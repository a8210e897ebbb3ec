#!/usr/bin/env node
// `npm start`: Azurite + the local Functions host, the way `func start` runs an app.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { describeAccount, hasIdentitySettings, storageAccountFrom } from '../storage/connection.js';
import { azuriteMainPath, type RunningAzurite, startAzurite } from './azurite.js';
import { ensureDevelopmentCertificate } from './certificates.js';
import { formatFunctionList, type RunningHost, startHost } from './host.js';
import {
  applyLocalSettings,
  isLocalStorage,
  isTruthySetting,
  readLocalSettings,
  storagePortsOf,
  toNumber,
} from './settings.js';

interface CliOptions {
  appDir: string;
  port?: number;
  enableAuth?: boolean;
  azurite: boolean;
  azuriteLocation?: string;
  createQueues: boolean;
  logInvocations: boolean;
  https?: boolean;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('Not a port number.');
  return port;
}

const program = new Command()
  .name('npm start --')
  .description(
    'Runs this function app locally without Azure Functions Core Tools: starts Azurite (the storage emulator)\n' +
      'with its data under .azurite/, then serves the HTTP, queue and timer functions on http://127.0.0.1:7071.\n' +
      'Settings come from local.settings.json (or local.settings.example.json when that file is missing).\n' +
      'Press Ctrl-C to stop both.',
  )
  .option(
    '--app-dir <dir>',
    'function app folder (package.json, host.json, local.settings.json)',
    process.cwd(),
  )
  .option(
    '-p, --port <port>',
    'HTTP port (default: FUNCTIONS_HTTP_PORT, else local.settings.json Host.LocalHttpPort, else 7071)',
    parsePort,
  )
  .option(
    '--enable-auth',
    'check function keys for authLevel function/admin (FUNCTIONS_MASTER_KEY, FUNCTIONS_FUNCTION_KEY)',
  )
  .option(
    '--https',
    'serve https://127.0.0.1:7071 with a self-signed certificate for 127.0.0.1 and localhost, created once in\n' +
      '<app-dir>/.certs/ (like func start --useHttps); clients trust it with NODE_EXTRA_CA_CERTS=.certs/cert.pem',
  )
  .option('--no-azurite', 'do not start Azurite; use the storage that AzureWebJobsStorage names as it is')
  .option('--azurite-location <dir>', 'folder for Azurite data (default: <app-dir>/.azurite)')
  .option(
    '--no-create-queues',
    'do not create trigger and poison queues at startup (the cloud runtime never does)',
  )
  .option(
    '--no-log-invocations',
    "don't print Executing/Executed lines (same as FUNCTIONS_LOG_INVOCATIONS=false)",
  )
  .addHelpText(
    'after',
    '\nExamples:\n' +
      '  npm start                          Azurite + host on port 7071\n' +
      '  npm start -- --port 7072 --no-azurite   a second host on the same storage (scale-out)\n' +
      '  npm start -- --https               HTTPS (what @azure/identity and the Graph SDKs need to sign in)\n' +
      '\nStorage: AzureWebJobsStorage=UseDevelopmentStorage=true (or any 127.0.0.1/localhost connection string)\n' +
      'starts Azurite on ports 10000-10002 (or the ports in the string); if they are taken the start fails and\n' +
      'says so. Any other connection string (a real account) is used directly and no Azurite is started.\n' +
      'See docs/host.md for what the local host reproduces of the Functions runtime and what it does not.',
  );

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<CliOptions>();
  const appDir = path.resolve(opts.appDir);
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };

  const settings = readLocalSettings(appDir);
  if (settings.file === undefined) out('No local.settings.json found; using environment variables only.');
  else if (settings.fromExample) {
    out(
      `local.settings.json not found: using ${path.relative(process.cwd(), settings.file) || settings.file}.`,
    );
    out('  (copy it to local.settings.json to change settings locally)');
  } else out(`Using settings from ${path.relative(process.cwd(), settings.file) || settings.file}.`);
  for (const key of applyLocalSettings(settings.values)) {
    out(`Skipping '${key}' from local settings as it's already defined in current environment variables.`);
  }
  process.env.AZURE_FUNCTIONS_ENVIRONMENT ??= 'Development';
  if (opts.logInvocations === false) process.env.FUNCTIONS_LOG_INVOCATIONS = 'false';

  const connectionString = process.env.AzureWebJobsStorage?.trim() || undefined;
  const identityBased = connectionString === undefined && hasIdentitySettings('AzureWebJobsStorage');
  const storage = connectionString ?? 'UseDevelopmentStorage=true';
  let azurite: RunningAzurite | undefined;
  let host: RunningHost | undefined;
  let shuttingDown = false;

  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) {
      out('Forced exit.');
      process.exit(1);
    }
    shuttingDown = true;
    out(`\n${signal} received: stopping (press Ctrl-C again to force)...`);
    try {
      await host?.stop();
    } finally {
      await azurite?.stop();
      out('Stopped.');
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    if (identityBased) {
      const account = storageAccountFrom('AzureWebJobsStorage');
      out(
        `AzureWebJobsStorage is an identity-based connection (${account ? describeAccount(account) : ''}): ` +
          'not starting Azurite.',
      );
    } else if (opts.azurite && isLocalStorage(storage)) {
      const location = path.resolve(opts.azuriteLocation ?? path.join(appDir, '.azurite'));
      const ports = storagePortsOf(storage);
      out(
        `Starting Azurite ${azuriteVersion()} (blob ${ports.blob}, queue ${ports.queue}, table ${ports.table}), data in ${location}`,
      );
      azurite = await startAzurite({ location, ports });
      process.env.AzureWebJobsStorage = azurite.connectionString;
      for (const note of azurite.notes) out(note);
      out(`Azurite is ready (pid ${azurite.pid}).`);
      void azurite.exited.then((exit) => {
        if (exit.expected || shuttingDown) return;
        // Without storage every function fails: stop, loudly, rather than answer 500 to everything.
        process.stderr.write(
          `\nAzurite (the storage emulator, pid ${azurite?.pid}) exited on its own ` +
            `(code ${exit.code}, signal ${exit.signal}). Its last output:\n` +
            `${exit.lastOutput.map((line) => `  ${line}`).join('\n') || '  (none)'}\n` +
            'Stopping the host. Data saved before that is kept in ' +
            `${location}; run npm start again to continue.\n`,
        );
        shuttingDown = true;
        void (host?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
      });
    } else if (!opts.azurite) {
      out('Not starting Azurite (--no-azurite): using AzureWebJobsStorage as configured.');
      process.env.AzureWebJobsStorage = storage;
    } else {
      out('AzureWebJobsStorage names a storage account that is not local: not starting Azurite.');
    }

    const port = opts.port ?? toNumber(process.env.FUNCTIONS_HTTP_PORT) ?? settings.localHttpPort ?? 7071;
    const certificate = opts.https
      ? await ensureDevelopmentCertificate(path.join(appDir, '.certs'))
      : undefined;
    if (certificate) {
      const shown = path.relative(process.cwd(), certificate.certPath) || certificate.certPath;
      out(
        `${certificate.created ? 'Created' : 'Using'} the self-signed HTTPS certificate ${shown} (127.0.0.1, localhost).`,
      );
    }
    host = await startHost({
      appDir,
      port,
      createQueues: opts.createQueues,
      enableAuth: opts.enableAuth === true || isTruthySetting(process.env.FUNCTIONS_ENABLE_AUTH),
      cors: settings.cors,
      ...(certificate ? { https: { cert: certificate.cert, key: certificate.key } } : {}),
    });
    out('\nFunctions:\n');
    out(formatFunctionList(host.functions));
    out(`\nHost listening on ${host.url}`);
    out(`Licenses console: ${host.url}/api/console/ (sign in with the operator key, ADMIN_API_KEY)`);
    if (certificate) {
      const shown = path.relative(process.cwd(), certificate.certPath) || certificate.certPath;
      out(
        `To trust its certificate from Node.js (@azure/identity, the Graph SDKs): NODE_EXTRA_CA_CERTS=${shown}\n` +
          `(curl: --cacert ${shown}).`,
      );
    }
    if (shuttingDown) await host.stop();
  } catch (error) {
    process.stderr.write(`\nStartup failed: ${error instanceof Error ? error.message : String(error)}\n`);
    // The start-up error above is the one to report; a host that half started may fail to stop as well.
    await host?.stop().catch(() => undefined);
    await azurite?.stop();
    process.exit(1);
  }
}

function azuriteVersion(): string {
  try {
    const file = path.join(path.dirname(azuriteMainPath()), '..', '..', 'package.json');
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'version' in parsed &&
      typeof parsed.version === 'string'
    ) {
      return parsed.version;
    }
  } catch {
    // fall through
  }
  return '(unknown version)';
}

void main();
