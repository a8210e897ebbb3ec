import { writeFileSync } from 'node:fs';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { storageStatsSettings } from '../config/tuning.js';

/**
 * Counts storage requests by kind (table or queue, operation, resource) when STORAGE_STATS=1. The benchmark and
 * profiling read them to see how many round trips a workload costs per member.
 */
const counts = new Map<string, number>();

export function storageStatsEnabled(): boolean {
  return storageStatsSettings().enabled;
}

function kindOf(method: string, url: URL): string {
  const segments = url.pathname.split('/').filter(Boolean);
  const resource = (segments[1] ?? '').replace(/\(.*$/, '');
  if (resource === '$batch') return `${method} $batch`;
  if (url.pathname.includes('/messages')) return `${method} queue ${segments[1] ?? ''} messages`;
  const point = /\(PartitionKey=/.test(url.pathname);
  const rowKey = /RowKey='([^']*)'/.exec(decodeURIComponent(url.pathname))?.[1] ?? '';
  if (point && rowKey.startsWith('~')) return `${method} ${resource} (point ${rowKey.slice(0, 3)})`;
  const query = url.searchParams.has('$filter');
  return `${method} ${resource}${point ? ' (point)' : query ? ' (query)' : ''}`;
}

let policies = 0;

/** A counting policy for one client (pipelines refuse two policies of the same name, so each gets its own). */
export function countingPolicy(): PipelinePolicy {
  policies++;
  return {
    name: `storageStats${policies}`,
    sendRequest: async (request, next) => {
      const key = kindOf(request.method, new URL(request.url));
      counts.set(key, (counts.get(key) ?? 0) + 1);
      writeToFileEverySecond();
      return next(request);
    },
  };
}

/** Counts an operation the caller performs itself (queue sends: the queue SDK shares one pipeline per account). */
export function countStorage(key: string): void {
  if (!storageStatsEnabled()) return;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  writeToFileEverySecond();
}

export function storageStats(): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

export function resetStorageStats(): void {
  counts.clear();
}

let writing = false;

/**
 * With STORAGE_STATS_FILE set, the counts are written to that file every second from the first counted request
 * on (the benchmark reads the host process's counts this way; the timer does not keep the process alive).
 */
function writeToFileEverySecond(): void {
  if (writing) return;
  writing = true;
  const { file } = storageStatsSettings();
  if (file) setInterval(() => writeFileSync(file, JSON.stringify(storageStats())), 1000).unref();
}
