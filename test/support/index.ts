// Test helpers shared by every test suite. The vitest global setup (./global-setup.ts) starts one Azurite and
// provides its connection string: `inject('storageConnectionString')`.
export {
  cliPath,
  type ExitInfo,
  freePort,
  type HostProcess,
  type HostProcessOptions,
  repoRoot,
  startHostProcess,
  startTestHost,
  type TestHost,
} from './hosts.js';
export { decodeBody, messageCount, queueClient, sendMessage, takeMessages } from './queues.js';
export { type NodeRequestOptions, type NodeResponse, nodeFetch, nodeRequest } from './requests.js';
export { uniqueName, type WaitOptions, waitFor, withTimeout } from './wait.js';
