// The `@azure/functions-core` module, as the Node worker provides it.
//
// `@azure/functions` requires '@azure/functions-core' lazily (on the first `app.*` or hook call) and caches
// the answer for the life of the process; when the require fails the library silently enters "test mode"
// and registers nothing. The worker therefore proxies `Module.prototype.require`; so do we. The proxy and
// the object it returns are process-wide, and forward to whichever host is currently loading an app.
import Module from 'node:module';
import {
  type FunctionCallback,
  type FunctionMetadata,
  type HookCallback,
  isFunction,
  isProgrammingModel,
  type ProgrammingModel,
  type RpcLogCategory,
  type RpcLogLevel,
  toFunctionMetadata,
} from './rpc.js';

export const hookNames = ['appStart', 'appTerminate', 'preInvocation', 'postInvocation', 'log'] as const;
export type HookName = (typeof hookNames)[number];

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
}

/** What one host collects from the app it loads. */
export interface AppRegistry {
  functions: RegisteredFunction[];
  hooks: Record<HookName, HookCallback[]>;
  /** Set once startup is over: later `registerFunction` calls throw, as in the worker. */
  locked: boolean;
  systemLog(level: RpcLogLevel, message: string): void;
}

export function createRegistry(systemLog: AppRegistry['systemLog']): AppRegistry {
  return {
    functions: [],
    hooks: { appStart: [], appTerminate: [], preInvocation: [], postInvocation: [], log: [] },
    locked: false,
    systemLog,
  };
}

/** Same contract as the worker's Disposable (VS Code style). */
export class Disposable {
  static from(...inner: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => {
      for (const d of inner) d.dispose();
    });
  }

  #onDispose: (() => unknown) | undefined;

  constructor(onDispose: () => unknown) {
    this.#onDispose = onDispose;
  }

  dispose(): void {
    const fn = this.#onDispose;
    this.#onDispose = undefined;
    fn?.();
  }
}

const workerVersion = '3.12.0';
const hostVersion = '4.1037.0';

let activeRegistry: AppRegistry | undefined;
let programmingModel: ProgrammingModel | undefined;

function requireRegistry(): AppRegistry {
  if (!activeRegistry) {
    throw new Error('No Azure Functions app is being loaded by the local host.');
  }
  return activeRegistry;
}

const coreApi = Object.freeze({
  version: workerVersion,
  hostVersion,
  Disposable,
  registerFunction(metadataIn: unknown, callback: unknown): Disposable {
    const registry = requireRegistry();
    if (registry.locked) {
      throw new Error('A function can only be registered during app startup.');
    }
    const metadata = toFunctionMetadata(metadataIn);
    if (!isFunction(callback)) {
      throw new Error(`registerFunction: the handler of "${metadata.name}" is not a function.`);
    }
    const lower = metadata.name.toLowerCase();
    if (registry.functions.some((f) => f.metadata.name.toLowerCase() === lower)) {
      throw new Error(`A function with name "${metadata.name}" has already been registered.`);
    }
    const entry: RegisteredFunction = { metadata, callback };
    registry.functions.push(entry);
    return new Disposable(() => {
      if (registry.locked) throw new Error('A function can only be disposed during app startup.');
      registry.functions = registry.functions.filter((f) => f !== entry);
    });
  },
  registerHook(hookName: unknown, callback: unknown): Disposable {
    const registry = requireRegistry();
    const name = hookNames.find((h) => h === hookName);
    if (name === undefined) {
      throw new RangeError(`Unrecognized hook "${String(hookName)}"`);
    }
    if (!isFunction(callback)) throw new TypeError(`The ${name} hook callback must be a function.`);
    const hook: HookCallback = (ctx) => callback(ctx);
    registry.hooks[name].push(hook);
    return new Disposable(() => {
      registry.hooks[name] = registry.hooks[name].filter((h) => h !== hook);
    });
  },
  setProgrammingModel(model: unknown): void {
    if (!isProgrammingModel(model)) throw new TypeError('setProgrammingModel: not a programming model.');
    programmingModel = model;
    activeRegistry?.systemLog(
      'debug',
      `Setting Node.js programming model to "${model.name}" version "${model.version}"`,
    );
  },
  getProgrammingModel(): ProgrammingModel | undefined {
    return programmingModel;
  },
  // The library's own system messages (e.g. "log after completion" warnings) arrive here.
  log(level: RpcLogLevel, _category: RpcLogCategory, message: string): void {
    if (activeRegistry) activeRegistry.systemLog(level, message);
    else console.log(message);
  },
});

let installed = false;

/**
 * Makes `require('@azure/functions-core')` return the core API, as the worker does. Idempotent. Must run
 * before the first `app.*` call anywhere in the process, or the library caches "test mode" for good.
 */
export function installCoreApiProxy(): void {
  if (installed) return;
  installed = true;
  const original = Module.prototype.require;
  Module.prototype.require = new Proxy(original, {
    apply(target, thisArg, args: unknown[]) {
      if (args[0] === '@azure/functions-core') return coreApi;
      return Reflect.apply(target, thisArg, args);
    },
  });
}

/** Points the core API at `registry` (the app being loaded) and returns a function that undoes it. */
export function activateRegistry(registry: AppRegistry): () => void {
  activeRegistry = registry;
  return () => {
    if (activeRegistry === registry) activeRegistry = undefined;
  };
}

/** The model the library handed over with its first registration. */
export function currentProgrammingModel(): ProgrammingModel {
  if (!programmingModel) {
    throw new Error(
      'The app registered no functions through "@azure/functions" (no programming model was set).',
    );
  }
  return programmingModel;
}
