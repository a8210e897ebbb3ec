// Vitest global setup: ONE Azurite child process (in memory, free ports) for the whole run. Tests read its
// connection string with `inject('storageConnectionString')` and use unique table/queue names
// (see uniqueName in ./index.ts), so test files can run in parallel against it.
import type { TestProject } from 'vitest/node';
import { startAzurite } from '../../src/host/azurite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Full connection string of the shared Azurite (devstoreaccount1 on 127.0.0.1, free ports). */
    storageConnectionString: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const azurite = await startAzurite({ inMemory: true });
  project.provide('storageConnectionString', azurite.connectionString);
  return async () => {
    await azurite.stop();
  };
}
