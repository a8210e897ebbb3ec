// The subset of the worker <-> library contract ("@azure/functions-core") the local host speaks.
// The real definitions live in the worker's `types-core` package, which is not published to npm,
// so the shapes are restated here. Everything that comes back from the library is `unknown` and
// narrowed with the guards below.

export type RpcLogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type RpcLogCategory = 'user' | 'system' | 'customMetric';

export interface RpcTypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  http?: RpcHttpData;
  int?: number;
  double?: number;
}

export interface RpcHttpData {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: RpcTypedData;
  params?: Record<string, string>;
  query?: Record<string, string>;
}

export interface RpcBindingInfo {
  type?: string;
  direction?: string;
  [option: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, RpcBindingInfo>;
}

export interface RpcParameterBinding {
  name: string;
  data: RpcTypedData;
}

export interface RpcInvocationRequest {
  invocationId: string;
  functionId: string;
  inputData: RpcParameterBinding[];
  triggerMetadata: Record<string, RpcTypedData>;
}

export type InvocationState = 'preInvocationHooks' | 'postInvocationHooks' | 'invocation' | undefined;

export interface CoreInvocationContext {
  invocationId: string;
  request: RpcInvocationRequest;
  metadata: FunctionMetadata;
  state: InvocationState;
  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void;
}

export type FunctionCallback = (...args: unknown[]) => unknown;
export type HookCallback = (context: Record<string, unknown>) => unknown;

export interface InvocationModel {
  getArguments(): Promise<unknown>;
  invokeFunction(context: unknown, inputs: unknown[], handler: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<unknown>;
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: CoreInvocationContext): unknown;
}

/** A converted output: the typed data of one output binding, keyed by binding name ('$return' for return). */
export interface OutputValue {
  bindingName: string;
  data: RpcTypedData;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isFunction(value: unknown): value is (...args: unknown[]) => unknown {
  return typeof value === 'function';
}

export function isProgrammingModel(value: unknown): value is ProgrammingModel {
  return (
    isRecord(value) &&
    typeof value.name === 'string' &&
    typeof value.version === 'string' &&
    isFunction(value.getInvocationModel)
  );
}

export function isInvocationModel(value: unknown): value is InvocationModel {
  return (
    isRecord(value) &&
    isFunction(value.getArguments) &&
    isFunction(value.invokeFunction) &&
    isFunction(value.getResponse)
  );
}

/** Narrows a binding map coming from the library (`toCoreFunctionMetadata`). */
export function toFunctionMetadata(value: unknown): FunctionMetadata {
  if (!isRecord(value) || typeof value.name !== 'string' || !isRecord(value.bindings)) {
    throw new Error('registerFunction: metadata must have a string "name" and an object "bindings".');
  }
  const bindings: Record<string, RpcBindingInfo> = {};
  for (const [bindingName, binding] of Object.entries(value.bindings)) {
    if (!isRecord(binding) || typeof binding.type !== 'string') {
      throw new Error(`registerFunction: binding "${bindingName}" of "${value.name}" has no type.`);
    }
    bindings[bindingName] = { ...binding, type: binding.type };
  }
  return { name: value.name, bindings };
}

/** Narrows one RpcTypedData value produced by the library's `toRpcTypedData`/`toRpcHttp`. */
export function toTypedData(value: unknown): RpcTypedData | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value.string === 'string') return { string: value.string };
  if (typeof value.json === 'string') return { json: value.json };
  if (value.bytes instanceof Uint8Array) return { bytes: value.bytes };
  if (typeof value.int === 'number') return { int: value.int };
  if (typeof value.double === 'number') return { double: value.double };
  if (isRecord(value.http)) return { http: {} };
  return undefined;
}

/** Extracts the outputs of an RpcInvocationResponse (`returnValue` + `outputData`). */
export function readInvocationResponse(response: unknown): { returnValue: unknown; outputs: unknown[] } {
  if (!isRecord(response)) return { returnValue: undefined, outputs: [] };
  const outputs = Array.isArray(response.outputData) ? response.outputData : [];
  return { returnValue: response.returnValue, outputs };
}
