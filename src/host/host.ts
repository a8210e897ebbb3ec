// startHost: load an app, then serve its HTTP, queue and timer functions until stop().
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DequeuedMessageItem } from '@azure/storage-queue';
import { accountKey, type StorageAccount, storageAccountFrom } from '../storage/connection.js';
import { loadApp } from './appLoader.js';
import { createRegistry, currentProgrammingModel } from './coreApi.js';
import { type FunctionPlan, planFunctions, type QueueOutputPlan } from './functionPlan.js';
import { FunctionsHttpServer, type HttpFunction } from './httpServer.js';
import { type InvocationOutcome, Invoker } from './invoker.js';
import { consoleSink, describeError, HostLogger, type LogSink } from './log.js';
import { isValidQueueName, poisonQueueName, QueueListener } from './queueListener.js';
import { encodeMessage, messagesOf, QueueClients, QueueWatcher, sendCreatingQueue } from './queueStorage.js';
import { isFunction, isRecord, type RpcTypedData, toTypedData } from './rpc.js';
import { requestBodyLimitOf } from './runtimeRules.js';
import {
  type Env,
  isTruthySetting,
  type MessageEncoding,
  readHostConfig,
  resolveConnection,
  toNumber,
} from './settings.js';
import { SingletonLock } from './singletonLock.js';
import { TimerScheduler } from './timerScheduler.js';

export interface HostOptions {
  /** The function app folder: its package.json "main" glob is loaded, host.json read from it. */
  appDir: string;
  /** HTTP port; 0 picks a free one. Default: FUNCTIONS_HTTP_PORT, else 7071. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  hostname?: string;
  /**
   * App settings for this host. They are written to process.env before the app loads (function code reads
   * settings from process.env, as on the runtime) and restored by stop(). In-process hosts share
   * process.env, so hosts that need different settings at the same time should run as child processes.
   */
  env?: Record<string, string>;
  /** Merged over host.json (after AzureFunctionsJobHost__* settings), e.g. `{ extensions: { queues: { batchSize: 2 } } }`. */
  hostJson?: Record<string, unknown>;
  /**
   * Create every trigger queue and its poison queue at startup. A local convenience: the runtime never
   * creates trigger queues (its listener backs off while one is missing). The CLI turns this on.
   */
  createQueues?: boolean;
  /** Check function keys for authLevel function/admin. Default: FUNCTIONS_ENABLE_AUTH=true; off like `func start`. */
  enableAuth?: boolean;
  /** Print Executing/Executed lines. Default: FUNCTIONS_LOG_INVOCATIONS (true unless "false"). */
  logInvocations?: boolean;
  /** Where log records go. Default: stdout/stderr in func's `[time] message` shape. */
  logSink?: LogSink;
  /**
   * Largest accepted request body. Default: FUNCTIONS_REQUEST_BODY_SIZE_LIMIT when it is a whole number
   * (read as the runtime does: anything else is ignored), else 100 MB (104857600 bytes).
   */
  maxRequestBodyBytes?: number;
  /** CORS origins ('*' for any). Default none (the CLI passes local.settings.json Host.CORS). */
  cors?: string[];
  /** Serve HTTPS with this certificate and key (PEM), like `func start --useHttps`. Default plain HTTP. */
  https?: { cert: string; key: string };
  /** How long stop() waits for running invocations and requests. Default 30 s. */
  shutdownTimeoutMs?: number;
  /** Queue receive lease (runtime: 10 minutes), renewed at half its length. Only tests should lower it
   * (also the setting FUNCTIONS_QUEUE_LEASE_MS, for child-process hosts in crash tests). */
  queueLeaseMs?: number;
  /** Development environment (2 s max polling interval default). Default true, as under `func start`. */
  development?: boolean;
  /**
   * Run each timer on one host only among hosts of the same app sharing AzureWebJobsStorage, through a lease
   * entity in the table AzureFunctionsLocalLocks (the runtime uses a blob lease). Default true.
   */
  timerSingleton?: boolean;
}

export interface FunctionInfo {
  name: string;
  trigger: 'http' | 'queue' | 'timer';
  disabled: boolean;
  /** HTTP: methods and the full URL template. */
  methods?: string[];
  url?: string;
  authLevel?: string;
  /** Queue trigger: the resolved queue name. */
  queueName?: string;
  /** Timer: the resolved schedule. */
  schedule?: string;
}

export interface RunningHost {
  /** Base URL, e.g. http://127.0.0.1:7071 (no route prefix). */
  url: string;
  port: number;
  functions: FunctionInfo[];
  /** Graceful stop: no new work, running invocations finish (bounded), appTerminate hooks run. Idempotent. */
  stop(): Promise<void>;
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const appDir = path.resolve(options.appDir);
  const restoreEnv = applyEnv(options.env ?? {});
  const env: Env = process.env;
  const config = readHostConfig(appDir, {
    env,
    overrides: options.hostJson,
    development: options.development,
  });
  const logger = new HostLogger(options.logSink ?? consoleSink, config.logLevel);
  const registry = createRegistry((level, message) => logger.write({ level, category: 'system', message }));
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;

  let app: Awaited<ReturnType<typeof loadApp>> | undefined;
  try {
    const maxRequestBodyBytes =
      options.maxRequestBodyBytes ?? requestBodyLimitOf(env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT);
    app = await loadApp(appDir, registry);
    await checkCapabilities();
    const invoker = new Invoker(registry, logger, {
      logInvocations: options.logInvocations ?? env.FUNCTIONS_LOG_INVOCATIONS?.toLowerCase() !== 'false',
      functionTimeoutMs: config.functionTimeoutMs,
    });
    await invoker.runAppHooks('appStart', appDir);
    registry.locked = true;
    const plans = planFunctions(registry.functions, env);

    const clients = new QueueClients();
    const watcher = new QueueWatcher();
    const encoding = config.queues.messageEncoding;
    const writeOutputs = (outputs: QueueOutputPlan[]) => async (outcome: InvocationOutcome) => {
      await writeQueueOutputs(outputs, outcome, clients, watcher, encoding);
    };

    if (options.createQueues) {
      await createTriggerQueues(plans, clients, logger);
    }

    const httpFunctions: HttpFunction[] = [];
    for (const plan of plans) {
      if (plan.kind !== 'http' || plan.disabled) continue;
      httpFunctions.push({
        fn: plan.fn,
        triggerBindingName: plan.triggerBindingName,
        route: plan.route,
        methods: plan.methods,
        authLevel: plan.authLevel,
        responseBindingName: plan.responseBindingName,
        afterInvoke: plan.queueOutputs.length > 0 ? writeOutputs(plan.queueOutputs) : undefined,
      });
    }
    const port = options.port ?? toNumber(env.FUNCTIONS_HTTP_PORT) ?? 7071;
    const hostname = options.hostname ?? '127.0.0.1';
    const server = new FunctionsHttpServer(httpFunctions, invoker, logger, {
      port,
      hostname,
      routePrefix: config.routePrefix,
      auth: {
        enabled: options.enableAuth ?? isTruthySetting(env.FUNCTIONS_ENABLE_AUTH),
        masterKey: env.FUNCTIONS_MASTER_KEY || undefined,
        functionKey: env.FUNCTIONS_FUNCTION_KEY || undefined,
      },
      maxRequestBodyBytes,
      cors: options.cors ?? [],
      tls: options.https,
    });
    const boundPort = await server.listen();
    const displayHost = hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname;
    const url = `${options.https ? 'https' : 'http'}://${displayHost}:${boundPort}`;

    const listeners: QueueListener[] = [];
    const timers: TimerScheduler[] = [];
    const unsubscribers: (() => void)[] = [];
    for (const plan of plans) {
      if (plan.disabled) continue;
      if (plan.kind === 'queue') {
        const poisonName = poisonQueueName(plan.queueName);
        const listener: QueueListener = new QueueListener({
          functionName: plan.name,
          queue: clients.get(plan.storage, plan.queueName),
          poisonQueue: poisonName ? clients.get(plan.storage, poisonName) : undefined,
          options: config.queues,
          leaseMs: options.queueLeaseMs ?? toNumber(env.FUNCTIONS_QUEUE_LEASE_MS) ?? 10 * 60_000,
          logger,
          invoke: (message, body) =>
            invoker
              .invoke(
                plan.fn,
                {
                  inputData: [{ name: plan.triggerBindingName, data: { string: body } }],
                  triggerMetadata: queueTriggerMetadata(message, body, plan.name),
                  reason: `New queue message detected on '${plan.queueName}'.`,
                },
                writeOutputs(plan.queueOutputs),
              )
              .then(() => undefined),
          onPoison: (name) => watcher.notify(plan.storage, name),
        });
        unsubscribers.push(watcher.subscribe(plan.storage, plan.queueName, () => listener.notify()));
        listeners.push(listener);
      } else if (plan.kind === 'timer') {
        const storage = storageAccountFrom('AzureWebJobsStorage', env);
        const useLock = (options.timerSingleton ?? true) && storage !== undefined;
        if (!useLock && (options.timerSingleton ?? true)) {
          logger.warn(
            `Timer '${plan.name}': AzureWebJobsStorage is not set, so it runs without a singleton lock.`,
          );
        }
        const scheduler: TimerScheduler = new TimerScheduler({
          functionName: plan.name,
          schedule: plan.schedule,
          runOnStartup: plan.runOnStartup,
          logger,
          lock: useLock
            ? new SingletonLock({
                storage: resolveConnection('AzureWebJobsStorage', env),
                hostId: hostIdOf(appDir, env),
                name: `${plan.name}.Listener`,
                leaseMs: 15_000,
                logger,
                onChange: (held) => scheduler.setActive(held),
              })
            : undefined,
          invoke: (payload, firedAt) =>
            invoker
              .invoke(
                plan.fn,
                {
                  inputData: [{ name: plan.triggerBindingName, data: { json: JSON.stringify(payload) } }],
                  triggerMetadata: {},
                  reason: `Timer fired at ${firedAt.toISOString()}`,
                },
                writeOutputs(plan.queueOutputs),
              )
              .then(() => undefined),
        });
        timers.push(scheduler);
      }
    }
    for (const listener of listeners) listener.start();
    for (const timer of timers) timer.start();

    const functions = plans.map((plan) => describe(plan, (route) => server.urlOf(route, url)));
    let stopping: Promise<void> | undefined;
    const loadedApp = app;
    return {
      url,
      port: boundPort,
      functions,
      stop() {
        stopping ??= (async () => {
          logger.info('Stopping host...');
          for (const unsubscribe of unsubscribers) unsubscribe();
          await Promise.all([
            ...listeners.map((l) => l.stop(shutdownTimeoutMs)),
            ...timers.map((t) => t.stop(shutdownTimeoutMs)),
            server.close(shutdownTimeoutMs),
          ]);
          try {
            await invoker.runAppHooks('appTerminate', appDir);
          } catch (error) {
            logger.error(`An appTerminate hook failed: ${describeError(error)}`);
          }
          loadedApp.unload();
          restoreEnv();
          logger.info('Host stopped.');
        })();
        return stopping;
      },
    };
  } catch (error) {
    app?.unload();
    restoreEnv();
    throw error;
  }
}

/** Lets the library lock app.setup() as the worker does, and refuses HTTP streaming (not supported here). */
async function checkCapabilities(): Promise<void> {
  const model: unknown = currentProgrammingModel();
  if (!isRecord(model) || !isFunction(model.getCapabilities)) return;
  const capabilities: unknown = await model.getCapabilities({});
  if (isRecord(capabilities) && capabilities.HttpUri !== undefined) {
    throw new Error(
      'app.setup({ enableHttpStream: true }) is not supported by the local host; remove it or run `func start`.',
    );
  }
}

/** The app's host id (AzureFunctionsWebHost__hostid, else its package.json name or folder name). */
function hostIdOf(appDir: string, env: Env): string {
  const configured = env.AzureFunctionsWebHost__hostid;
  let id = configured && configured !== '' ? configured : undefined;
  if (!id) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8'));
      if (isRecord(parsed) && typeof parsed.name === 'string') id = parsed.name;
    } catch {
      // no package.json: use the folder name
    }
  }
  // Table keys may not contain / \ # ? or control characters.
  return (id ?? path.basename(appDir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .slice(0, 32);
}

function applyEnv(values: Record<string, string>): () => void {
  const previous = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(values)) {
    previous.set(key, process.env[key]);
    process.env[key] = value;
  }
  return () => {
    for (const [key, value] of previous) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    previous.clear();
  };
}

async function createTriggerQueues(
  plans: FunctionPlan[],
  clients: QueueClients,
  logger: HostLogger,
): Promise<void> {
  const names = new Map<string, { storage: StorageAccount; queueName: string }>();
  for (const plan of plans) {
    if (plan.kind !== 'queue') continue;
    for (const queueName of [plan.queueName, poisonQueueName(plan.queueName)]) {
      if (queueName && isValidQueueName(queueName)) {
        names.set(`${accountKey(plan.storage)}\n${queueName}`, {
          storage: plan.storage,
          queueName,
        });
      }
    }
  }
  await Promise.all(
    [...names.values()].map(async ({ storage, queueName }) => {
      try {
        const created = await clients
          .get(storage, queueName)
          .createIfNotExists({ abortSignal: AbortSignal.timeout(30_000) });
        if (created.succeeded) logger.debug(`Created queue '${queueName}'.`);
      } catch (error) {
        throw new Error(
          `Could not create queue '${queueName}' (is the storage in AzureWebJobsStorage running?): ` +
            (error instanceof Error ? error.message : String(error)),
        );
      }
    }),
  );
}

/** Binding data the runtime's queue trigger provides, PascalCase as sent; the library camelCases it. */
function queueTriggerMetadata(
  message: DequeuedMessageItem,
  body: string,
  functionName: string,
): Record<string, RpcTypedData> {
  return {
    QueueTrigger: { string: body },
    DequeueCount: { json: String(message.dequeueCount) },
    ExpirationTime: { json: JSON.stringify(dotnetTime(message.expiresOn)) },
    Id: { string: message.messageId },
    InsertionTime: { json: JSON.stringify(dotnetTime(message.insertedOn)) },
    NextVisibleTime: { json: JSON.stringify(dotnetTime(message.nextVisibleOn)) },
    PopReceipt: { string: message.popReceipt },
    sys: {
      json: JSON.stringify({
        MethodName: functionName,
        UtcNow: new Date().toISOString(),
        RandGuid: randomUUID(),
      }),
    },
  };
}

/** A DateTimeOffset as Newtonsoft writes it: 2024-05-01T10:00:00+00:00. */
function dotnetTime(date: Date | undefined): string | null {
  if (!date) return null;
  return date
    .toISOString()
    .replace(/\.000Z$/, '+00:00')
    .replace(/Z$/, '+00:00');
}

async function writeQueueOutputs(
  outputs: QueueOutputPlan[],
  outcome: InvocationOutcome,
  clients: QueueClients,
  watcher: QueueWatcher,
  encoding: MessageEncoding,
): Promise<void> {
  for (const output of outputs) {
    let raw: unknown;
    if (output.bindingName === '$return') raw = outcome.returnValue;
    else {
      const entry = outcome.outputs.find((o) => isRecord(o) && o.name === output.bindingName);
      raw = isRecord(entry) ? entry.data : undefined;
    }
    const data = toTypedData(raw);
    if (!data) continue;
    const messages = messagesOf(data);
    if (messages.length === 0) continue;
    const queue = clients.get(output.storage, output.queueName);
    // A few sends in parallel: an array output of hundreds of messages should not go one round trip at a time.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < messages.length) {
        const message = messages[next++];
        if (message !== undefined) await sendCreatingQueue(queue, encodeMessage(message, encoding));
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, messages.length) }, worker));
    watcher.notify(output.storage, output.queueName);
  }
}

function describe(plan: FunctionPlan, urlOf: (route: string) => string): FunctionInfo {
  switch (plan.kind) {
    case 'http':
      return {
        name: plan.name,
        trigger: 'http',
        disabled: plan.disabled,
        methods: plan.methods,
        url: urlOf(plan.route),
        authLevel: plan.authLevel,
      };
    case 'queue':
      return { name: plan.name, trigger: 'queue', disabled: plan.disabled, queueName: plan.queueName };
    case 'timer':
      return {
        name: plan.name,
        trigger: 'timer',
        disabled: plan.disabled,
        schedule: plan.schedule.expression,
      };
  }
}

/** The function list in `func start`'s style, one line per function. */
export function formatFunctionList(functions: FunctionInfo[]): string {
  return functions
    .map((f) => {
      const disabled = f.disabled ? ' (disabled)' : '';
      if (f.trigger === 'http')
        return `\t${f.name}: [${(f.methods ?? []).join(',')}] ${f.url ?? ''}${disabled}`;
      if (f.trigger === 'queue') return `\t${f.name}: queueTrigger (queue '${f.queueName ?? ''}')${disabled}`;
      return `\t${f.name}: timerTrigger (schedule '${f.schedule ?? ''}')${disabled}`;
    })
    .join('\n');
}
