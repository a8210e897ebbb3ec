// Loads a function app like the Node worker's startApp: expand package.json "main" (a glob, relative to the
// app folder) and require every match in order, with '@azure/functions-core' already answering.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AppRegistry, activateRegistry, installCoreApiProxy } from './coreApi.js';
import { globFiles } from './glob.js';
import { isRecord } from './rpc.js';

export interface LoadedApp {
  /** The entry files, in load order. */
  files: string[];
  /**
   * Forgets the modules this load brought into the require cache, so another host in the same process can
   * load the app again (its registrations run at module load). Also detaches the registry.
   */
  unload(): void;
}

export function readMainPattern(appDir: string): string {
  const packageFile = path.join(appDir, 'package.json');
  if (!existsSync(packageFile)) return 'index.js';
  const parsed: unknown = JSON.parse(readFileSync(packageFile, 'utf8'));
  if (isRecord(parsed) && typeof parsed.main === 'string' && parsed.main.trim() !== '') return parsed.main;
  return 'index.js';
}

function isEsm(file: string, appDir: string): boolean {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs')) return false;
  const packageFile = path.join(appDir, 'package.json');
  if (!existsSync(packageFile)) return false;
  const parsed: unknown = JSON.parse(readFileSync(packageFile, 'utf8'));
  return isRecord(parsed) && parsed.type === 'module';
}

export async function loadApp(appDir: string, registry: AppRegistry): Promise<LoadedApp> {
  installCoreApiProxy();
  const main = readMainPattern(appDir);
  const files = globFiles(main, appDir);
  if (files.length === 0) {
    throw new Error(
      `Found zero files matching the supplied pattern "${main}" (package.json "main") in ${appDir}. ` +
        'Is the app built?',
    );
  }
  const deactivate = activateRegistry(registry);
  const requireFromApp = createRequire(path.join(appDir, 'package.json'));
  // An entry file still cached from an earlier load in this process would not register anything again.
  for (const file of files) delete requireFromApp.cache[file];
  const before = new Set(Object.keys(requireFromApp.cache));
  try {
    for (const file of files) {
      try {
        if (isEsm(file, appDir)) await import(pathToFileURL(file).href);
        else requireFromApp(file);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`Worker was unable to load entry point "${path.relative(appDir, file)}": ${reason}`, {
          cause: error,
        });
      }
    }
  } catch (error) {
    forget(requireFromApp.cache, before);
    deactivate();
    throw error;
  }
  const loaded = Object.keys(requireFromApp.cache).filter((key) => !before.has(key));
  return {
    files,
    unload() {
      for (const key of loaded) delete requireFromApp.cache[key];
      deactivate();
    },
  };
}

function forget(cache: NodeJS.Require['cache'], keep: Set<string>): void {
  for (const key of Object.keys(cache)) if (!keep.has(key)) delete cache[key];
}
