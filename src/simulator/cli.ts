// The tenant simulator: `npm run simulate -- <command>`. See `--help` for each command.
import { Command, InvalidArgumentError } from 'commander';
import { loadCatalog, loadCatalogData } from '../catalog/load.js';
import { watchAlerts } from './alert-check.js';
import { churn } from './churn.js';
import { provisionTenant } from './generate.js';
import { terminalProgress } from './progress.js';
import { buildReport, formatReport } from './report.js';
import { runScenario, SCENARIOS } from './scenarios/index.js';
import {
  DEFAULT_ADMIN_KEY,
  graphClient,
  OperatorClient,
  type ServiceEndpoint,
  startEmbeddedService,
} from './service.js';
import { loadState, saveState } from './state.js';
import { verify } from './verify.js';

const DEFAULT_STATE = '.simulator/state.json';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function share(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError('expected a number between 0 and 1');
  return n;
}

interface ServiceOptions {
  baseUrl: string;
  adminKey: string;
}

const program = new Command()
  .name('npm run simulate --')
  .description(
    'The tenant simulator: creates realistic tenants, drives them through the licensing service over HTTP (the operator API, the\n' +
      'Graph-compatible API and the membership webhook) and checks the service against its own record of what it sent.\n\n' +
      'Start the service first (npm start), or use `scenario --embedded` to start one inside the simulator.\n' +
      'Typical session:\n' +
      '  npm run simulate -- scenario all\n' +
      '  npm run simulate -- generate --users 2000 --groups 20 --devices 50 --seed 1\n' +
      '  npm run simulate -- churn --events 2000 --duplicates 0.05 --reorder 0.05 --seed 2\n' +
      '  npm run simulate -- verify\n' +
      '  npm run simulate -- report',
  )
  .showHelpAfterError();

function withService<T extends Command>(command: T): T {
  command
    .option(
      '--base-url <url>',
      'where the service runs',
      process.env.SIMULATOR_BASE_URL ?? 'http://127.0.0.1:7071',
    )
    .option(
      '--admin-key <key>',
      'the service’s ADMIN_API_KEY',
      process.env.ADMIN_API_KEY ?? DEFAULT_ADMIN_KEY,
    );
  return command;
}

withService(
  program
    .command('scenario')
    .description(`Play an acceptance scenario of scenarios.md step by step (${SCENARIOS.join(', ')} or all)`)
    .argument('<name>', 'S1 … S13, or all')
    .option('--embedded', 'start Azurite and the service inside the simulator instead of using --base-url')
    .option('--scale <scale>', 'full (the sizes of scenarios.md) or small (scaled down)', 'full'),
).action(async (name: string, options: ServiceOptions & { embedded?: boolean; scale: string }) => {
  const names = name.toLowerCase() === 'all' ? [...SCENARIOS] : [name.toUpperCase()];
  for (const n of names)
    if (!SCENARIOS.includes(n))
      throw new InvalidArgumentError(`unknown scenario ${n}; choose ${SCENARIOS.join(', ')} or all`);
  if (options.scale !== 'full' && options.scale !== 'small')
    throw new InvalidArgumentError('--scale is full or small');
  const scale = options.scale;
  let service: ServiceEndpoint | undefined;
  try {
    service = options.embedded
      ? await startEmbeddedService()
      : { baseUrl: options.baseUrl, adminKey: options.adminKey, stop: async () => {} };
    for (const n of names) {
      console.log(`\n${n}`);
      await runScenario(n, service, { scale, log: (line) => console.log(`  ${line}`) });
    }
    console.log(`\n${names.length} scenario${names.length === 1 ? '' : 's'} passed.`);
  } finally {
    await service?.stop();
  }
});

withService(
  program
    .command('generate')
    .description(
      'Create a realistic tenant: users, groups (dynamic ones by department, location and device OS; static ones with nesting), devices, subscriptions a little short of demand, group licenses',
    )
    .requiredOption('--users <n>', 'number of users', integer)
    .option('--groups <n>', 'number of groups', integer, 20)
    .option('--devices <n>', 'number of devices', integer, 0)
    .option('--seed <n>', 'random seed: the same seed gives the same tenant', integer, 1)
    .option('--healing <mode>', 'automatic (default) or manual license error healing', 'automatic')
    .option('--state <file>', 'where to keep the simulator’s record of the tenant', DEFAULT_STATE)
    .option('--quiet', 'no progress output'),
).action(
  async (
    options: ServiceOptions & {
      users: number;
      groups: number;
      devices: number;
      seed: number;
      healing: string;
      state: string;
      quiet?: boolean;
    },
  ) => {
    const progress = terminalProgress({ quiet: options.quiet === true });
    const started = Date.now();
    const operator = new OperatorClient(options.baseUrl, options.adminKey);
    const { state, timings } = await provisionTenant(
      operator,
      loadCatalog(),
      {
        users: options.users,
        groups: options.groups,
        devices: options.devices,
        seed: options.seed,
        healing: options.healing === 'manual' ? 'manual' : 'automatic',
      },
      progress,
    );
    saveState(options.state, state);
    console.log(
      `Tenant ${state.tenant.id}: ${options.users} users, ${Object.keys(state.groups).length} groups, ${options.devices} devices ` +
        `(import ${timings.importSeconds?.toFixed(1)} s, license assignments ${timings.assignSeconds?.toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s). ` +
        `Record saved to ${options.state}.`,
    );
  },
);

withService(
  program
    .command('churn')
    .description(
      'Send directory and admin changes: joins, leaves, soft/hard deletes, restores (as webhook notifications), purchases, (un)assignments, usage-location, department and account changes, dynamic group rule edits (through the Graph API)',
    )
    .requiredOption('--events <n>', 'number of events', integer)
    .option('--seed <n>', 'random seed: the same seed sends the same traffic', integer, 1)
    .option('--duplicates <p>', 'share of notifications delivered twice', share, 0)
    .option('--reorder <p>', 'share of notifications delivered out of order', share, 0)
    .option(
      '--no-wait',
      'start at once instead of waiting for the service to finish earlier work on the tenant (each admin action then waits behind that work)',
    )
    .option('--state <file>', 'the record written by generate', DEFAULT_STATE)
    .option(
      '--no-alerts',
      'skip the alert check (a receiver subscribed to licenseErrors must have every error churn left announced)',
    )
    .option('--quiet', 'no progress output'),
).action(
  async (
    options: ServiceOptions & {
      events: number;
      seed: number;
      duplicates: number;
      reorder: number;
      wait: boolean;
      alerts: boolean;
      state: string;
      quiet?: boolean;
    },
  ) => {
    const state = loadState(options.state);
    const operator = new OperatorClient(options.baseUrl, options.adminKey);
    const watch = options.alerts ? await watchAlerts(operator, state.tenant.id) : undefined;
    const summary = await churn(
      operator,
      loadCatalog(),
      state,
      { ...options, waitForIdle: options.wait },
      terminalProgress({ quiet: options.quiet === true }),
    );
    saveState(options.state, state);
    console.log(
      `${options.events} events in ${summary.seconds.toFixed(1)} s: ${Object.entries(summary.counts)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}; ` +
        `${summary.notificationsSent} notifications in ${summary.posts} webhook posts; refused by the service: ${JSON.stringify(summary.refused)}.`,
    );
    console.log(
      `Time waiting for the service (calls, mean, slowest): ${Object.entries(summary.calls)
        .map(([k, c]) => `${k} ${c.count} × ${(c.totalMs / c.count).toFixed(0)} ms, ${c.maxMs.toFixed(0)} ms`)
        .join('; ')}.`,
    );
    if (watch) {
      await operator.waitIdle(state.tenant.id);
      const graph = graphClient(options.baseUrl, await operator.token(state.tenant.id));
      const alerts = await watch.check(graph, state);
      await watch.close();
      console.log(
        `Alerts: ${alerts.conditions} license error conditions (group × error type), ${alerts.missed.length} missed; ` +
          `${alerts.notifications} notifications in ${alerts.deliveries} deliveries, ` +
          `${alerts.badSignatures} bad signatures, ${alerts.parked} parked.`,
      );
      for (const line of alerts.missed.slice(0, 20)) console.log(`  missed: ${line}`);
      if (alerts.missed.length > 0 || alerts.badSignatures > 0 || alerts.parked > 0) process.exitCode = 1;
    }
  },
);

withService(
  program
    .command('verify')
    .description(
      'Wait until the service is idle, read everything back and check it against the record and the invariants of rules.md §7',
    )
    .option('--state <file>', 'the record written by generate/churn', DEFAULT_STATE)
    .option('--quiet', 'no progress output'),
).action(async (options: ServiceOptions & { state: string; quiet?: boolean }) => {
  const state = loadState(options.state);
  const operator = new OperatorClient(options.baseUrl, options.adminKey);
  const result = await verify(
    operator,
    loadCatalogData(),
    state,
    terminalProgress({ quiet: options.quiet === true }),
  );
  if (result.differences.length === 0) {
    console.log(
      `No differences: ${result.principalsChecked} principals checked in ${result.seconds.toFixed(1)} s.`,
    );
    return;
  }
  for (const d of result.differences.slice(0, 20)) console.log(`${d.kind}: ${d.message}`);
  if (result.differences.length > 20) console.log(`… and ${result.differences.length - 20} more.`);
  console.log(
    `Differences by kind: ${Object.entries(result.countsByKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  process.exitCode = 1;
});

withService(
  program
    .command('report')
    .description(
      'The Licenses page: per SKU Total, Assigned, Available, Expiring soon; group statuses; errors by type',
    )
    .option('--state <file>', 'the record written by generate', DEFAULT_STATE)
    .option('--json', 'print JSON instead of tables'),
).action(async (options: ServiceOptions & { state: string; json?: boolean }) => {
  const state = loadState(options.state);
  const report = await buildReport(
    new OperatorClient(options.baseUrl, options.adminKey),
    loadCatalog(),
    state,
  );
  console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
});

program.parseAsync().catch((error: unknown) => {
  console.error(`simulate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
