// Turns registered function metadata into what the host runs: applies the runtime's own checks
// (runtimeRules.ts), resolves `%SETTING%` expressions and connections at startup (as the runtime's indexer
// does) and rejects bindings the local host cannot serve.
import type { StorageAccount } from '../storage/connection.js';
import type { RegisteredFunction } from './coreApi.js';
import type { AuthLevel } from './httpServer.js';
import { type CronSchedule, parseNcrontab } from './ncrontab.js';
import { isValidQueueName } from './queueListener.js';
import type { RpcBindingInfo } from './rpc.js';
import {
  assertRuntimeRules,
  FunctionsInError,
  httpRouteOf,
  isTriggerBinding,
  messages,
} from './runtimeRules.js';
import { type Env, isTruthySetting, resolveAppSettings, resolveConnection } from './settings.js';

export interface QueueOutputPlan {
  bindingName: string;
  queueName: string;
  storage: StorageAccount;
}

interface PlanBase {
  fn: RegisteredFunction;
  name: string;
  triggerBindingName: string;
  queueOutputs: QueueOutputPlan[];
  /** `AzureWebJobs.<name>.Disabled` is set: listed, but not triggered. */
  disabled: boolean;
}

export interface HttpPlan extends PlanBase {
  kind: 'http';
  route: string;
  methods: string[];
  authLevel: AuthLevel;
  responseBindingName: string | undefined;
}

export interface QueuePlan extends PlanBase {
  kind: 'queue';
  queueName: string;
  storage: StorageAccount;
}

export interface TimerPlan extends PlanBase {
  kind: 'timer';
  schedule: CronSchedule;
  runOnStartup: boolean;
}

export type FunctionPlan = HttpPlan | QueuePlan | TimerPlan;

export function planFunctions(functions: RegisteredFunction[], env: Env): FunctionPlan[] {
  assertRuntimeRules(functions);
  return functions.map((fn) => planFunction(fn, env));
}

function planFunction(fn: RegisteredFunction, env: Env): FunctionPlan {
  const name = fn.metadata.name;
  const where = `Function '${name}'`;
  const entries = Object.entries(fn.metadata.bindings);
  const trigger = entries.find(([, b]) => isTriggerBinding(b));
  // Already refused by assertRuntimeRules; kept for the type checker, in the runtime's words.
  if (!trigger) throw new FunctionsInError([{ functionName: name, message: messages.noTrigger }]);
  const [triggerBindingName, triggerBinding] = trigger;

  const queueOutputs: QueueOutputPlan[] = [];
  let responseBindingName: string | undefined;
  for (const [bindingName, binding] of entries) {
    if (binding === triggerBinding) continue;
    const type = (binding.type ?? '').toLowerCase();
    if (binding.direction === 'out' && type === 'queue') {
      queueOutputs.push({
        bindingName,
        queueName: queueNameOf(binding, env, `${where}, output binding '${bindingName}'`),
        storage: resolveConnection(binding.connection, env),
      });
    } else if (binding.direction === 'out' && type === 'http') {
      responseBindingName = bindingName;
    } else {
      throw new Error(
        `${where}: the ${binding.direction ?? ''} binding '${bindingName}' of type '${binding.type ?? ''}' ` +
          'is not supported by the local host (supported: HTTP, storage queue and timer triggers; queue outputs).',
      );
    }
  }
  const disabled = isTruthySetting(env[`AzureWebJobs.${name}.Disabled`]);
  const base = { fn, name, triggerBindingName, queueOutputs, disabled };

  switch ((triggerBinding.type ?? '').toLowerCase()) {
    case 'httptrigger':
      return {
        ...base,
        kind: 'http',
        route: httpRouteOf(name, triggerBinding),
        methods: stringList(triggerBinding.methods) ?? ['GET', 'POST'],
        authLevel: authLevelOf(triggerBinding.authLevel),
        responseBindingName,
      };
    case 'queuetrigger':
      return {
        ...base,
        kind: 'queue',
        queueName: queueNameOf(triggerBinding, env, where),
        storage: resolveConnection(triggerBinding.connection, env),
      };
    case 'timertrigger': {
      if (typeof triggerBinding.schedule !== 'string')
        throw new Error(`${where}: the timer has no schedule.`);
      const expression = resolveAppSettings(triggerBinding.schedule, env, where);
      if (/^\d+(\.\d+)?:\d{1,2}:\d{1,2}$/.test(expression.trim())) {
        throw new Error(`${where}: TimeSpan schedules ("${expression}") are not supported; use NCRONTAB.`);
      }
      return {
        ...base,
        kind: 'timer',
        schedule: parseNcrontab(expression),
        runOnStartup: triggerBinding.runOnStartup === true,
      };
    }
    default:
      throw new Error(
        `${where}: trigger type '${triggerBinding.type ?? ''}' is not supported by the local host.`,
      );
  }
}

function queueNameOf(binding: RpcBindingInfo, env: Env, where: string): string {
  if (typeof binding.queueName !== 'string') throw new Error(`${where}: missing queueName.`);
  const name = resolveAppSettings(binding.queueName, env, where).toLowerCase();
  if (!isValidQueueName(name)) {
    throw new Error(
      `${where}: "${name}" is not a valid queue name (3-63 characters: lowercase letters, digits, single dashes).`,
    );
  }
  return name;
}

function authLevelOf(value: unknown): AuthLevel {
  const level = typeof value === 'string' ? value.toLowerCase() : 'anonymous';
  if (level === 'anonymous' || level === 'function' || level === 'admin') return level;
  throw new Error(`Unknown authLevel "${String(value)}".`);
}

function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const list = value.filter((v): v is string => typeof v === 'string').map((v) => v.toUpperCase());
  return list.length > 0 ? list : undefined;
}
