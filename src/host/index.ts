// Public API of the local Functions host. See docs/host.md.

export { devConnectionString, resolveConnectionString } from '../storage/connection.js';
export { type AzuriteOptions, type RunningAzurite, startAzurite } from './azurite.js';
export {
  type FunctionInfo,
  formatFunctionList,
  type HostOptions,
  type RunningHost,
  startHost,
} from './host.js';
export { formatLogRecord, type LogRecord, type LogSink } from './log.js';
export { isLocalStorage } from './settings.js';
