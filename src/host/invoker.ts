// Runs one invocation the way the Node worker's InvocationHandler does: getInvocationModel → getArguments →
// preInvocation hooks → invokeFunction → postInvocation hooks → getResponse, so argument and result
// conversion is exactly the library's. Also prints the host's "Executing"/"Executed" lines.
import { randomUUID } from 'node:crypto';
import type { AppRegistry, HookName, RegisteredFunction } from './coreApi.js';
import { currentProgrammingModel } from './coreApi.js';
import { describeError, type HostLogger } from './log.js';
import {
  type CoreInvocationContext,
  type FunctionCallback,
  isFunction,
  isInvocationModel,
  isRecord,
  type RpcLogCategory,
  type RpcLogLevel,
  type RpcParameterBinding,
  type RpcTypedData,
  readInvocationResponse,
} from './rpc.js';
import type { LogLevelName } from './settings.js';

export interface InvocationRequest {
  inputData: RpcParameterBinding[];
  triggerMetadata: Record<string, RpcTypedData>;
  /** Shown in the Executing line, e.g. "New queue message detected on 'orders'." */
  reason: string;
}

export interface InvocationOutcome {
  invocationId: string;
  /** RpcTypedData of the `$return` binding (or the library's fallback return value for non-HTTP triggers). */
  returnValue: unknown;
  /** RpcParameterBinding[] of the named output bindings. */
  outputs: unknown[];
}

export interface InvokerOptions {
  logInvocations: boolean;
  functionTimeoutMs: number | undefined;
}

export class FunctionTimeoutError extends Error {}

export class Invoker {
  /** Shared by appStart/appTerminate hooks, and exposed to invocation hooks as `appHookData`. */
  readonly appHookData: Record<string, unknown> = {};
  private readonly appLevelHookData: Record<string, unknown> = {};

  constructor(
    private readonly registry: AppRegistry,
    private readonly logger: HostLogger,
    private readonly options: InvokerOptions,
  ) {}

  async runAppHooks(name: 'appStart' | 'appTerminate', appDir: string): Promise<void> {
    const context: Record<string, unknown> = {
      hookData: this.appLevelHookData,
      appHookData: this.appHookData,
    };
    if (name === 'appStart') context.functionAppDirectory = appDir;
    await this.runHooks(name, context);
  }

  /**
   * Invokes `fn` and resolves with its converted outputs, or rejects with the function's error (after
   * logging it). `afterInvoke` runs before the Executed line, so binding work (writing queue outputs) is
   * counted in the invocation as on the runtime, and its failure fails the invocation.
   */
  async invoke(
    fn: RegisteredFunction,
    request: InvocationRequest,
    afterInvoke?: (outcome: InvocationOutcome) => Promise<void>,
  ): Promise<InvocationOutcome> {
    const invocationId = randomUUID();
    const name = fn.metadata.name;
    const started = performance.now();
    if (this.options.logInvocations) {
      this.logger.write({
        level: 'information',
        category: 'host',
        functionName: name,
        invocationId,
        message: `Executing 'Functions.${name}' (Reason='${request.reason}', Id=${invocationId})`,
      });
    }
    try {
      const outcome = await this.withTimeout(name, this.run(fn, invocationId, request));
      if (afterInvoke) await afterInvoke(outcome);
      if (this.options.logInvocations) {
        this.logger.write({
          level: 'information',
          category: 'host',
          functionName: name,
          invocationId,
          message: `Executed 'Functions.${name}' (Succeeded, Id=${invocationId}, Duration=${elapsed(started)}ms)`,
        });
      }
      return outcome;
    } catch (error) {
      // Failures are always logged, even when per-invocation logging is off.
      this.logger.write({
        level: 'error',
        category: 'host',
        functionName: name,
        invocationId,
        message:
          `Executed 'Functions.${name}' (Failed, Id=${invocationId}, Duration=${elapsed(started)}ms)\n` +
          `Exception while executing function: Functions.${name}. Result: Failure\n` +
          `Exception: ${describeError(error)}`,
      });
      throw error;
    }
  }

  private async withTimeout<T>(name: string, work: Promise<T>): Promise<T> {
    const limit = this.options.functionTimeoutMs;
    if (limit === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new FunctionTimeoutError(`Timeout value of ${limit}ms exceeded by function 'Functions.${name}'.`),
          ),
        limit,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(
    fn: RegisteredFunction,
    invocationId: string,
    request: InvocationRequest,
  ): Promise<InvocationOutcome> {
    const coreCtx: CoreInvocationContext = {
      invocationId,
      request: {
        invocationId,
        functionId: fn.metadata.name,
        inputData: request.inputData,
        triggerMetadata: request.triggerMetadata,
      },
      metadata: fn.metadata,
      state: undefined,
      log: (level, category, message) =>
        this.userLog(fn.metadata.name, invocationId, level, category, message),
    };
    const model = currentProgrammingModel().getInvocationModel(coreCtx);
    if (!isInvocationModel(model))
      throw new Error('The programming model returned an invalid invocation model.');

    const args = await model.getArguments();
    if (!isRecord(args) || !Array.isArray(args.inputs)) {
      throw new Error('The invocation model returned invalid arguments.');
    }
    const context = args.context;
    this.currentContext.set(invocationId, context);
    try {
      const hookData: Record<string, unknown> = {};
      const pre: Record<string, unknown> = {
        hookData,
        appHookData: this.appHookData,
        invocationContext: context,
        inputs: args.inputs,
        functionCallback: fn.callback,
      };
      coreCtx.state = 'preInvocationHooks';
      try {
        await this.runHooks('preInvocation', pre);
      } finally {
        coreCtx.state = undefined;
      }
      const inputs: unknown[] = Array.isArray(pre.inputs) ? pre.inputs : args.inputs;
      const callback: FunctionCallback = isFunction(pre.functionCallback)
        ? pre.functionCallback
        : fn.callback;

      const post: Record<string, unknown> = {
        hookData,
        appHookData: this.appHookData,
        invocationContext: context,
        inputs,
        result: null,
        error: null,
      };
      coreCtx.state = 'invocation';
      try {
        post.result = await model.invokeFunction(context, inputs, callback);
      } catch (error) {
        post.error = error;
      } finally {
        coreCtx.state = undefined;
      }
      coreCtx.state = 'postInvocationHooks';
      try {
        await this.runHooks('postInvocation', post);
      } finally {
        coreCtx.state = undefined;
      }
      if (post.error !== null && post.error !== undefined) throw post.error;

      const response = readInvocationResponse(await model.getResponse(context, post.result));
      return { invocationId, returnValue: response.returnValue, outputs: response.outputs };
    } finally {
      this.currentContext.delete(invocationId);
    }
  }

  private readonly currentContext = new Map<string, unknown>();

  private userLog(
    functionName: string,
    invocationId: string,
    level: RpcLogLevel,
    category: RpcLogCategory,
    message: string,
  ): void {
    let finalLevel: LogLevelName = level;
    let finalMessage = message;
    if (this.registry.hooks.log.length > 0) {
      // Log hooks run synchronously and may rewrite level and message, as in the worker.
      const ctx: Record<string, unknown> = {
        hookData: {},
        level,
        message,
        category,
        invocationContext: this.currentContext.get(invocationId),
      };
      for (const hook of this.registry.hooks.log) {
        try {
          hook(ctx);
        } catch (error) {
          this.logger.error(`A log hook threw: ${describeError(error)}`);
        }
      }
      if (typeof ctx.message === 'string') finalMessage = ctx.message;
      if (typeof ctx.level === 'string') finalLevel = toLevel(ctx.level) ?? finalLevel;
    }
    this.logger.write({
      level: finalLevel,
      category: category === 'user' ? 'user' : 'system',
      functionName,
      invocationId,
      message: finalMessage,
    });
  }

  private async runHooks(name: HookName, context: Record<string, unknown>): Promise<void> {
    for (const hook of [...this.registry.hooks[name]]) {
      await hook(context);
    }
  }
}

function toLevel(value: string): LogLevelName | undefined {
  const levels: LogLevelName[] = ['trace', 'debug', 'information', 'warning', 'error', 'critical', 'none'];
  return levels.find((l) => l === value);
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
