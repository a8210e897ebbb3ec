// App settings, local.settings.json, host.json and connection strings, read the way the Functions host reads them.
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import {
  defaultAzuritePorts,
  isDevelopmentStorage,
  type StorageAccount,
  type StoragePorts,
  storageAccountFrom,
} from '../storage/connection.js';
import { isRecord } from './rpc.js';

export type Env = Record<string, string | undefined>;

// ---------------------------------------------------------------------------------------------------------
// local.settings.json

export interface LocalSettings {
  /** The file that was read, or undefined when neither local.settings.json nor the example exists. */
  file: string | undefined;
  /** True when local.settings.json was missing and local.settings.example.json was used instead. */
  fromExample: boolean;
  values: Record<string, string>;
  localHttpPort: number | undefined;
  cors: string[];
}

/** Reads `<appDir>/local.settings.json`, falling back to `local.settings.example.json` (a local convenience). */
export function readLocalSettings(appDir: string): LocalSettings {
  const candidates = ['local.settings.json', 'local.settings.example.json'];
  for (const name of candidates) {
    const file = path.join(appDir, name);
    if (!existsSync(file)) continue;
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isRecord(parsed)) throw new Error(`${file}: expected a JSON object.`);
    if (parsed.IsEncrypted === true) {
      throw new Error(`${file}: encrypted settings (IsEncrypted: true) are not supported by the local host.`);
    }
    const values: Record<string, string> = {};
    if (isRecord(parsed.Values)) {
      for (const [key, value] of Object.entries(parsed.Values)) {
        if (typeof value === 'string') values[key] = value;
        else if (typeof value === 'number' || typeof value === 'boolean') values[key] = String(value);
      }
    }
    const hostSection = isRecord(parsed.Host) ? parsed.Host : {};
    const port = toNumber(hostSection.LocalHttpPort);
    const cors = typeof hostSection.CORS === 'string' ? splitList(hostSection.CORS) : [];
    return { file, fromExample: name !== candidates[0], values, localHttpPort: port, cors };
  }
  return { file: undefined, fromExample: false, values: {}, localHttpPort: undefined, cors: [] };
}

/** Copies `values` into `env`, skipping keys already set (as Core Tools does). Returns the skipped keys. */
export function applyLocalSettings(values: Record<string, string>, env: Env = process.env): string[] {
  const skipped: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (env[key] !== undefined) skipped.push(key);
    else env[key] = value;
  }
  return skipped;
}

// ---------------------------------------------------------------------------------------------------------
// host.json

export type MessageEncoding = 'base64' | 'none';

export interface QueueOptions {
  batchSize: number;
  newBatchThreshold: number;
  maxPollingIntervalMs: number;
  visibilityTimeoutMs: number;
  maxDequeueCount: number;
  messageEncoding: MessageEncoding;
}

export type LogLevelName = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';

export interface HostConfig {
  routePrefix: string;
  queues: QueueOptions;
  /** host.json functionTimeout; undefined means unbounded ("-1"). */
  functionTimeoutMs: number | undefined;
  logLevel: LogLevelName;
}

const jobHostPrefix = 'AzureFunctionsJobHost__';

/**
 * Reads `<appDir>/host.json`, then applies `AzureFunctionsJobHost__path__to__key` app settings over it (the
 * runtime's own override mechanism), then `overrides` (programmatic). `development` selects the 2 s
 * maximum polling interval that the runtime uses when AZURE_FUNCTIONS_ENVIRONMENT=Development.
 */
export function readHostConfig(
  appDir: string,
  options: { env?: Env; overrides?: Record<string, unknown>; development?: boolean; cores?: number } = {},
): HostConfig {
  const file = path.join(appDir, 'host.json');
  let json: Record<string, unknown> = {};
  if (existsSync(file)) {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isRecord(parsed)) throw new Error(`${file}: expected a JSON object.`);
    json = parsed;
  }
  for (const [key, value] of Object.entries(options.env ?? process.env)) {
    if (value !== undefined && key.startsWith(jobHostPrefix)) {
      setPath(json, key.slice(jobHostPrefix.length).split('__'), value);
    }
  }
  if (options.overrides) json = deepMerge(json, options.overrides);
  return toHostConfig(json, options.development ?? true, options.cores ?? cpus().length);
}

export function toHostConfig(json: Record<string, unknown>, development: boolean, cores: number): HostConfig {
  const extensions = getSection(json, 'extensions');
  const http = getSection(extensions, 'http');
  const queues = getSection(extensions, 'queues');
  const logging = getSection(json, 'logging');
  const logLevelSection = getSection(logging, 'logLevel');

  const routePrefixRaw = getKey(http, 'routePrefix');
  const routePrefix = typeof routePrefixRaw === 'string' ? routePrefixRaw.replace(/^\/+|\/+$/g, '') : 'api';

  const batchSize = toNumber(getKey(queues, 'batchSize')) ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 32) {
    throw new Error(
      `host.json extensions.queues.batchSize must be an integer from 1 to 32 (got ${batchSize}).`,
    );
  }
  const newBatchThreshold =
    toNumber(getKey(queues, 'newBatchThreshold')) ?? Math.floor(batchSize / 2) * cores;
  const defaultMaxPolling = development ? 2_000 : 60_000;
  const maxPollingIntervalMs = toDurationMs(getKey(queues, 'maxPollingInterval')) ?? defaultMaxPolling;
  if (maxPollingIntervalMs < 100)
    throw new Error('host.json extensions.queues.maxPollingInterval must be ≥ 100 ms.');
  const maxDequeueCount = toNumber(getKey(queues, 'maxDequeueCount')) ?? 5;
  if (maxDequeueCount < 1) throw new Error('host.json extensions.queues.maxDequeueCount must be ≥ 1.');
  const encodingRaw = getKey(queues, 'messageEncoding');
  const encoding = typeof encodingRaw === 'string' ? encodingRaw.toLowerCase() : 'base64';
  if (encoding !== 'base64' && encoding !== 'none') {
    throw new Error(
      `host.json extensions.queues.messageEncoding must be "base64" or "none" (got "${encoding}").`,
    );
  }

  const timeoutRaw = getKey(json, 'functionTimeout');
  const functionTimeoutMs =
    timeoutRaw === '-1' || timeoutRaw === -1 ? undefined : (toDurationMs(timeoutRaw) ?? 30 * 60_000);

  const levelRaw = getKey(logLevelSection, 'default');
  const logLevel = parseLogLevel(typeof levelRaw === 'string' ? levelRaw : 'Information');

  return {
    routePrefix,
    queues: {
      batchSize,
      newBatchThreshold,
      maxPollingIntervalMs,
      visibilityTimeoutMs: toDurationMs(getKey(queues, 'visibilityTimeout')) ?? 0,
      maxDequeueCount,
      messageEncoding: encoding,
    },
    functionTimeoutMs,
    logLevel,
  };
}

function parseLogLevel(value: string): LogLevelName {
  const levels: Record<string, LogLevelName> = {
    trace: 'trace',
    debug: 'debug',
    information: 'information',
    warning: 'warning',
    error: 'error',
    critical: 'critical',
    none: 'none',
  };
  return levels[value.toLowerCase()] ?? 'information';
}

/** host.json keys are case-insensitive. */
function getKey(section: Record<string, unknown>, key: string): unknown {
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(section)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function getSection(section: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = getKey(section, key);
  return isRecord(value) ? value : {};
}

function setPath(target: Record<string, unknown>, keys: string[], value: string): void {
  const [head, ...rest] = keys;
  if (head === undefined || head === '') return;
  const existingKey = Object.keys(target).find((k) => k.toLowerCase() === head.toLowerCase()) ?? head;
  if (rest.length === 0) {
    target[existingKey] = value;
    return;
  }
  const child = target[existingKey];
  const next: Record<string, unknown> = isRecord(child) ? child : {};
  target[existingKey] = next;
  setPath(next, rest, value);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existingKey = Object.keys(result).find((k) => k.toLowerCase() === key.toLowerCase()) ?? key;
    const current = result[existingKey];
    result[existingKey] = isRecord(current) && isRecord(value) ? deepMerge(current, value) : value;
  }
  return result;
}

export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/** Parses a .NET TimeSpan ("[d.]hh:mm:ss[.fffffff]"); a bare number is taken as milliseconds. */
export function toDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/.exec(value.trim());
  if (!match) {
    const asNumber = toNumber(value);
    if (asNumber !== undefined) return asNumber;
    throw new Error(`"${value}" is not a valid TimeSpan (expected hh:mm:ss).`);
  }
  const [, days, hours, minutes, seconds, fraction] = match;
  const fractionMs = fraction ? Number(`0.${fraction}`) * 1000 : 0;
  return (
    ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 +
    Number(seconds) * 1000 +
    fractionMs
  );
}

// ---------------------------------------------------------------------------------------------------------
// Binding expressions and connections

/** Resolves `%SETTING%` app-setting expressions, failing like the runtime's indexer when one is missing. */
export function resolveAppSettings(text: string, env: Env, what: string): string {
  return text.replace(/%([^%]+)%/g, (_whole, name: string) => {
    const value = env[name];
    if (value === undefined) {
      throw new Error(`${what}: '%${name}%' does not resolve to a value (app setting "${name}" is not set).`);
    }
    return value;
  });
}

export { defaultAzuritePorts, devConnectionString, type StoragePorts } from '../storage/connection.js';

/** True for UseDevelopmentStorage=true or a connection string whose endpoints are on this machine. */
export function isLocalStorage(value: string): boolean {
  const trimmed = value.trim();
  if (isDevelopmentStorage(trimmed)) return true;
  const endpoints = [...trimmed.matchAll(/(?:Blob|Queue|Table)Endpoint=([^;]+)/gi)].map((m) => m[1] ?? '');
  if (endpoints.length === 0) return false;
  return endpoints.every((e) => /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i.test(e));
}

/** Ports named by a local connection string (defaults for UseDevelopmentStorage=true). */
export function storagePortsOf(value: string): StoragePorts {
  const trimmed = value.trim();
  const portOf = (service: string, fallback: number): number => {
    const match = new RegExp(`${service}Endpoint=https?://[^:/;]+:(\\d+)`, 'i').exec(trimmed);
    return match?.[1] ? Number(match[1]) : fallback;
  };
  return {
    blob: portOf('Blob', defaultAzuritePorts.blob),
    queue: portOf('Queue', defaultAzuritePorts.queue),
    table: portOf('Table', defaultAzuritePorts.table),
  };
}

/** Accounts already resolved, by connection name and settings: one credential (and token cache) per account. */
const resolvedAccounts = new Map<string, StorageAccount>();

/**
 * Resolves a binding's `connection` (an app-setting name) to a storage account, as the runtime does: empty or
 * "AzureWebJobsStorage" means the default account; otherwise `AzureWebJobs<name>` wins over `<name>`. Each name is
 * a connection string, or the prefix of an identity-based connection (`<name>__queueServiceUri`, `__accountName`,
 * `__credential`, …; src/storage/connection.ts has the rules).
 */
export function resolveConnection(connection: unknown, env: Env): StorageAccount {
  const name = typeof connection === 'string' && connection !== '' ? connection : 'AzureWebJobsStorage';
  const candidates = name === 'AzureWebJobsStorage' ? [name] : [`AzureWebJobs${name}`, name];
  for (const candidate of candidates) {
    const key = Object.entries(env)
      .filter(([k]) => k === candidate || k.toLowerCase().startsWith(`${candidate.toLowerCase()}__`))
      .sort(([a], [b]) => a.localeCompare(b))
      .join('\n');
    const cached = resolvedAccounts.get(key);
    if (cached) return cached;
    const account = storageAccountFrom(candidate, env);
    if (account) {
      resolvedAccounts.set(key, account);
      return account;
    }
  }
  throw new Error(
    `Storage connection "${name}" is not set: define the app setting "${name}" (or "AzureWebJobs${name}") as a ` +
      `connection string, or "${name}__queueServiceUri" / "${name}__accountName" for an identity-based connection.`,
  );
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function isTruthySetting(value: string | undefined): boolean {
  return value !== undefined && /^(true|1|yes)$/i.test(value.trim());
}
