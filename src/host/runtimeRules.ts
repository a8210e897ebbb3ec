// What the Azure Functions runtime refuses in a function app, checked with its own rules and in its own
// words. Sources: Azure/azure-functions-host at 89dc438d476542786f2fc4070f553423213a6223 (paths below are in
// that repository). The runtime logs "The '{name}' function is in error: {message}" for each such function
// and starts without it; this host collects every one and fails start-up instead, so that a function that
// could never run on Azure cannot hide locally. docs/host.md lists the rules.
import type { RegisteredFunction } from './coreApi.js';
import type { RpcBindingInfo } from './rpc.js';

export interface FunctionError {
  functionName: string;
  message: string;
}

// The runtime's line for a function in error, EventId 402:
// src/WebJobs.Script/Diagnostics/Extensions/ScriptHostLoggerExtension.cs.
export function functionErrorLine(error: FunctionError): string {
  return `The '${error.functionName}' function is in error: ${error.message}`;
}

/** Start-up failure listing every function the runtime would not load, one runtime log line each. */
export class FunctionsInError extends Error {
  readonly errors: FunctionError[];

  constructor(errors: FunctionError[]) {
    const count = errors.length;
    super(
      `${count} function${count === 1 ? ' is' : 's are'} in error; the Azure Functions runtime would start ` +
        `without ${count === 1 ? 'it' : 'them'}:\n${errors.map(functionErrorLine).join('\n')}`,
    );
    this.name = 'FunctionsInError';
    this.errors = errors;
  }
}

export const messages = {
  invalidFunctionName: (name: string) => `'${name}' is not a valid function name.`,
  invalidBindingName: (name: string) =>
    `The binding name ${name} is invalid. Please assign a valid name to the binding.`,
  returnNotOut: "$return bindings must specify a direction of 'out'.",
  duplicateBinding: (name: string) =>
    `Multiple bindings with name '${name}' discovered. Binding names must be unique.`,
  noBindings: 'At least one binding must be declared.',
  multipleTriggers: 'Multiple trigger bindings defined. A function can only have a single trigger binding.',
  noTrigger: 'No trigger binding specified. A function must have a trigger input binding.',
  reservedRoute: 'The specified route conflicts with one or more built in routes.',
  routeConflict: (other: string) =>
    `The route specified conflicts with the route defined by function '${other}'.`,
  duplicateHttpName: (name: string) =>
    `The function or proxy name '${name}' must be unique within the function app.`,
} as const;

/**
 * Checks every function and throws one FunctionsInError listing all functions in error, in the order the
 * runtime checks them (by name, case-insensitively: FunctionMetadataManager sorts with OrdinalIgnoreCase).
 */
export function assertRuntimeRules(functions: RegisteredFunction[]): void {
  const errors = functionErrors(functions);
  if (errors.length > 0) throw new FunctionsInError(errors);
}

/** Every function in error, one error each (the runtime stops checking a function at its first error). */
export function functionErrors(functions: RegisteredFunction[]): FunctionError[] {
  const sorted = [...functions].sort((a, b) => compareOrdinalIgnoreCase(a.metadata.name, b.metadata.name));
  const errors: FunctionError[] = [];
  const httpFunctions = new Map<string, HttpTriggerRoute>();
  for (const fn of sorted) {
    const functionName = fn.metadata.name;
    const message = metadataError(fn) ?? httpError(fn, httpFunctions);
    if (message !== undefined) errors.push({ functionName, message });
  }
  return errors;
}

/** A binding the runtime counts as a trigger: an input (direction not 'out') whose type ends in "trigger". */
export function isTriggerBinding(binding: RpcBindingInfo): boolean {
  return !isOut(binding) && /trigger$/i.test(binding.type ?? '');
}

/** The route an HTTP function is served on: its `route`, or its name when that is empty or blank. */
export function httpRouteOf(functionName: string, trigger: RpcBindingInfo): string {
  // src/WebJobs.Script/Host/ScriptHost.cs, ValidateHttpFunction: IsNullOrWhiteSpace(Route) → function name.
  return typeof trigger.route === 'string' && trigger.route.trim() !== '' ? trigger.route : functionName;
}

// Function names: src/WebJobs.Script/Utility.cs, FunctionNameValidationRegex
// (`^[a-z][a-z0-9_\-]{0,127}$(?<!^host$)`, IgnoreCase), checked by
// src/WebJobs.Script/Host/WorkerFunctionMetadataProvider.cs, ValidateName.
const functionNamePattern = /^[a-z][a-z0-9_-]{0,127}$/i;
// Binding names: src/WebJobs.Script/Utility.cs, BindingNameValidationRegex (case-sensitive).
const bindingNamePattern = /^([a-zA-Z][a-zA-Z0-9]{0,127}|\$return)$/;

/** The checks made on a function's metadata before any route is looked at. */
function metadataError(fn: RegisteredFunction): string | undefined {
  const name = fn.metadata.name;
  if (!functionNamePattern.test(name) || name.toLowerCase() === 'host')
    return messages.invalidFunctionName(name);

  // Bindings, in order: src/WebJobs.Script/Utility.cs, ValidateBinding (name syntax, $return direction), then
  // duplicate names, case-insensitively (src/WebJobs.Script/Description/FunctionDescriptorProvider.cs and
  // WorkerFunctionMetadataProvider.cs, ValidateFunction/ValidateBindings).
  const seen = new Set<string>();
  const entries = Object.entries(fn.metadata.bindings);
  for (const [bindingName, binding] of entries) {
    if (!bindingNamePattern.test(bindingName)) return messages.invalidBindingName(bindingName);
    if (bindingName === '$return' && !isOut(binding)) return messages.returnNotOut;
    const key = upperInvariant(bindingName);
    if (seen.has(key)) return messages.duplicateBinding(bindingName);
    seen.add(key);
  }
  // src/WebJobs.Script/Host/WorkerFunctionMetadataProvider.cs, ValidateBindings.
  if (entries.length === 0) return messages.noBindings;
  // src/WebJobs.Script/Description/FunctionDescriptorProvider.cs, ValidateFunction.
  const triggers = entries.filter(([, binding]) => isTriggerBinding(binding));
  if (triggers.length > 1) return messages.multipleTriggers;
  if (triggers.length === 0) return messages.noTrigger;
  return undefined;
}

interface HttpTriggerRoute {
  route: string;
  /** undefined or empty: every method. */
  methods: string[] | undefined;
}

/**
 * src/WebJobs.Script/Host/ScriptHost.cs, ValidateFunction, ValidateHttpFunction and HttpRoutesConflict: the
 * route (routePrefix not included) must not start with "admin" or "runtime" once '/' is trimmed (a plain
 * prefix test: "administrator" is refused, "v2/admin" is not); it must not equal, ignoring case and '/' at
 * either end, the route of a function checked before with an overlapping method; and HTTP function names
 * must be unique.
 */
function httpError(fn: RegisteredFunction, httpFunctions: Map<string, HttpTriggerRoute>): string | undefined {
  const trigger = Object.values(fn.metadata.bindings).find(isTriggerBinding);
  if (trigger?.type?.toLowerCase() !== 'httptrigger') return undefined;
  const name = fn.metadata.name;
  const current: HttpTriggerRoute = { route: httpRouteOf(name, trigger), methods: methodsOf(trigger) };

  const reserved = trimSlashes(current.route).toLowerCase();
  if (reserved.startsWith('admin') || reserved.startsWith('runtime')) return messages.reservedRoute;
  for (const [otherName, other] of httpFunctions) {
    if (routesConflict(current, other)) return messages.routeConflict(otherName);
  }
  // A plain Dictionary<string, …> in the runtime: names are compared case-sensitively here.
  if (httpFunctions.has(name)) return messages.duplicateHttpName(name);
  httpFunctions.set(name, current);
  return undefined;
}

function routesConflict(a: HttpTriggerRoute, b: HttpTriggerRoute): boolean {
  if (upperInvariant(trimSlashes(a.route)) !== upperInvariant(trimSlashes(b.route))) return false;
  if (!a.methods || a.methods.length === 0 || !b.methods || b.methods.length === 0) return true;
  // Enumerable.Intersect with the default comparer: ordinal, so "GET" and "get" do not overlap.
  const other = b.methods;
  return a.methods.some((method) => other.includes(method));
}

function methodsOf(trigger: RpcBindingInfo): string[] | undefined {
  return Array.isArray(trigger.methods) ? trigger.methods.map((method) => String(method)) : undefined;
}

function isOut(binding: RpcBindingInfo): boolean {
  return typeof binding.direction === 'string' && binding.direction.toLowerCase() === 'out';
}

function trimSlashes(route: string): string {
  return route.replace(/^\/+|\/+$/g, '');
}

/** Upper-cases character by character, as .NET's OrdinalIgnoreCase does (no "ß" → "SS" expansion). */
function upperInvariant(text: string): string {
  let result = '';
  for (const char of text) {
    const upper = char.toUpperCase();
    result += upper.length === char.length ? upper : char;
  }
  return result;
}

function compareOrdinalIgnoreCase(a: string, b: string): number {
  const x = upperInvariant(a);
  const y = upperInvariant(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------
// Request body size

/** ScriptConstants.DefaultMaxRequestBodySize (src/WebJobs.Script/ScriptConstants.cs): 100 MB. */
export const defaultRequestBodyLimit = 104_857_600;

/**
 * The request body limit from FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, read as the runtime does
 * (src/WebJobs.Script.WebHost/Middleware/HttpRequestBodySizeMiddleware.cs): a value `long.TryParse` accepts
 * (optional blanks and sign around decimal digits) replaces the 100 MB default; anything else is ignored. A
 * negative value makes the runtime fail every request (Kestrel's MaxRequestBodySize setter throws "Value must
 * be null or a non-negative number."), so it fails start-up here.
 */
export function requestBodyLimitOf(setting: string | undefined): number {
  const match = setting === undefined ? null : /^[\t\n\v\f\r ]*([+-]?[0-9]+)[\t\n\v\f\r ]*$/.exec(setting);
  const digits = match?.[1];
  if (digits === undefined) return defaultRequestBodyLimit;
  const value = BigInt(digits);
  if (value > 9_223_372_036_854_775_807n || value < -9_223_372_036_854_775_808n)
    return defaultRequestBodyLimit;
  if (value < 0n) {
    throw new Error(
      `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is negative (${setting?.trim()}): the Functions runtime would ` +
        'fail every request with it ("Value must be null or a non-negative number.").',
    );
  }
  return Number(value);
}
