// `npm run package`: the zip that a zip deployment uploads. What stays out is .funcignore's business alone; the
// production node_modules come from `npm ci --omit=dev` in a staging folder, never from this working tree (whose
// node_modules holds the development tools too). Before writing, it checks that Core Tools would read the
// .funcignore the same way, and that every module the functions load, and every package they require, is inside.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readMainPattern } from '../host/appLoader.js';
import { globFiles } from '../host/glob.js';
import { disagreements, type Funcignore, readFuncignore } from './funcignore.js';
import { listZip, writeZip, type ZipSource } from './zip.js';

export interface PackageOptions {
  /** The function app folder (package.json, package-lock.json, host.json, .funcignore, dist/). */
  readonly appDir: string;
  /** The zip to write. */
  readonly outFile: string;
  /** Install from npm's cache only (`npm ci --offline`); by default the cache is preferred (`--prefer-offline`). */
  readonly offline?: boolean;
  /** Leave the staging folder (the production node_modules) in place and report it. */
  readonly keepStaging?: boolean;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface PackageResult {
  readonly zipPath: string;
  readonly bytes: number;
  readonly files: number;
  readonly sha256: string;
  /** Files per top-level entry of the zip (`dist`, `node_modules`, `host.json`, ...). */
  readonly topLevel: ReadonlyMap<string, number>;
  /** The function files that package.json `main` names (relative paths). */
  readonly entryPoints: readonly string[];
  /** Compiled modules the functions load, entry points included. */
  readonly runtimeModules: readonly string[];
  /** The npm packages they require by name (all production dependencies). */
  readonly requiredPackages: readonly string[];
  /** npm packages installed by `npm ci --omit=dev`. */
  readonly installedPackages: number;
  /** Compiled `.js` files in the package that no function loads. */
  readonly unusedModules: readonly string[];
  /** Set with `keepStaging`. */
  readonly stagingDir?: string;
}

/** Builds the deployment zip. Throws, saying what to fix, when a check fails; nothing is written then. */
export async function buildPackage(options: PackageOptions): Promise<PackageResult> {
  const appDir = path.resolve(options.appDir);
  const log = options.log ?? (() => {});
  const manifest = readManifest(appDir);
  for (const required of ['host.json', 'package.json', 'package-lock.json'])
    if (!existsSync(path.join(appDir, required)))
      throw new Error(`${path.join(appDir, required)} is missing.`);
  const entryFiles = globFiles(readMainPattern(appDir), appDir).map((file) =>
    toPosix(path.relative(appDir, file)),
  );
  if (entryFiles.length === 0)
    throw new Error(
      `package.json main "${manifest.main}" matches no file in ${appDir}: run npm run build first.`,
    );
  const funcignore = readFuncignore(appDir);

  // This folder's files, except .git and node_modules (replaced by the production install below).
  const appFiles = walkFiles(appDir, (relative) => relative === '.git' || relative === 'node_modules');

  const staging = mkdtempSync(path.join(tmpdir(), 'functions-package-'));
  try {
    log(`Installing production dependencies (npm ci --omit=dev) in ${staging} ...`);
    for (const file of ['package.json', 'package-lock.json', '.npmrc'])
      if (existsSync(path.join(appDir, file)))
        copyFileSync(path.join(appDir, file), path.join(staging, file));
    await npm(
      [
        'ci',
        '--omit=dev',
        '--ignore-scripts',
        '--no-bin-links',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        options.offline ? '--offline' : '--prefer-offline',
        '--prefix',
        staging,
      ],
      staging,
    );
    const moduleFiles = existsSync(path.join(staging, 'node_modules'))
      ? walkFiles(path.join(staging, 'node_modules'), () => false).map((relative) => ({
          ...relative,
          name: `node_modules/${relative.name}`,
        }))
      : [];
    const candidates = [...appFiles, ...moduleFiles];

    const differ = disagreements(
      funcignore,
      candidates.map((file) => file.name),
    );
    if (differ.length > 0)
      throw new Error(
        `${funcignore.file} reads differently in func azure functionapp publish and here:\n` +
          differ
            .slice(0, 20)
            .map((d) => `  ${d.path}: ${d.coreTools} for Core Tools, ${d.packageScript} here`)
            .join('\n') +
          '\nKeep to patterns both read alike: anchored with a leading "/", no "!" (see src/package/funcignore.ts).',
      );

    const included = candidates.filter((file) => !funcignore.ignores(file.name));
    for (const file of included)
      if (file.symlink)
        throw new Error(`${file.file} is a symbolic link; the package holds plain files only.`);
    const includedNames = new Set(included.map((file) => file.name));
    const allNames = new Set(candidates.map((file) => file.name));

    for (const required of ['host.json', 'package.json'])
      if (!includedNames.has(required))
        throw new Error(`${funcignore.file} keeps ${required} out of the package.`);
    const closure = runtimeClosure(
      appDir,
      entryFiles,
      allNames,
      includedNames,
      manifest,
      funcignore,
      staging,
    );
    const unusedModules = included
      .map((file) => file.name)
      // dist/console holds the console's browser bundle: files the console function serves, never modules it loads.
      .filter(
        (name) =>
          name.startsWith('dist/') &&
          !name.startsWith('dist/console/') &&
          name.endsWith('.js') &&
          !closure.modules.includes(name),
      )
      .sort();

    const sources: ZipSource[] = included
      .map((file) => ({ name: file.name, file: file.file }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const zipPath = path.resolve(options.outFile);
    log(`Writing ${sources.length} files to ${zipPath} ...`);
    await writeZip(zipPath, sources);

    const written = await listZip(zipPath);
    if (written.length !== sources.length || written.some((entry, i) => entry.name !== sources[i]?.name))
      throw new Error(`${zipPath} does not hold the ${sources.length} files written to it.`);
    const topLevel = new Map<string, number>();
    for (const { name } of sources) {
      const top = name.split('/')[0] ?? name;
      topLevel.set(top, (topLevel.get(top) ?? 0) + 1);
    }
    const { sha256, bytes } = await digest(zipPath);
    return {
      zipPath,
      bytes,
      files: sources.length,
      sha256,
      topLevel,
      entryPoints: entryFiles,
      runtimeModules: closure.modules,
      requiredPackages: closure.packages,
      installedPackages: installedPackageCount(staging),
      unusedModules,
      ...(options.keepStaging ? { stagingDir: staging } : {}),
    };
  } finally {
    if (!options.keepStaging) rmSync(staging, { recursive: true, force: true });
  }
}

interface Manifest {
  readonly main: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
}

function readManifest(appDir: string): Manifest {
  const file = path.join(appDir, 'package.json');
  if (!existsSync(file)) throw new Error(`${file} is missing.`);
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const record = (value: unknown): Record<string, string> =>
    typeof value === 'object' && value !== null ? (value as Record<string, string>) : {};
  const fields = record(parsed);
  return {
    main: typeof fields.main === 'string' ? fields.main : 'index.js',
    dependencies: record(fields.dependencies),
    devDependencies: record(fields.devDependencies),
  };
}

interface FoundFile {
  /** Relative path, forward slashes. */
  readonly name: string;
  /** Absolute path on disk. */
  readonly file: string;
  readonly symlink: boolean;
}

/** Every file under `root` (symbolic links reported as such, not followed), skipping folders `skip` names. */
function walkFiles(root: string, skip: (relative: string) => boolean): FoundFile[] {
  const found: FoundFile[] = [];
  const visit = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!skip(name)) visit(file, name);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        found.push({ name, file, symlink: entry.isSymbolicLink() });
      }
    }
  };
  visit(root, '');
  return found;
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

// `require("x")` as tsc writes it for CommonJS, and `import('x')`, which it keeps for dynamic imports.
const IMPORT = /\b(?:require|import)\(\s*(['"])([^'"\n]+)\1\s*\)/g;

interface Closure {
  readonly modules: string[];
  readonly packages: string[];
}

/**
 * Follows the compiled requires from the entry points. Our own modules must be in the package; a module's JSON
 * files (the catalog beside its loader) travel with it; packages must be production dependencies, installed.
 */
function runtimeClosure(
  appDir: string,
  entryPoints: readonly string[],
  allNames: ReadonlySet<string>,
  includedNames: ReadonlySet<string>,
  manifest: Manifest,
  funcignore: Funcignore,
  staging: string,
): Closure {
  const problems: string[] = [];
  const modules = new Set<string>();
  const packages = new Set<string>();
  const pending = [...entryPoints];
  for (const entry of entryPoints)
    if (!includedNames.has(entry)) problems.push(`${entry} (a function file) is kept out by .funcignore`);
  while (pending.length > 0) {
    const module = pending.pop() ?? '';
    if (modules.has(module)) continue;
    modules.add(module);
    const source = readFileSync(path.join(appDir, module), 'utf8');
    for (const match of source.matchAll(IMPORT)) {
      const specifier = match[2] ?? '';
      if (isBuiltin(specifier)) continue;
      if (specifier.startsWith('.')) {
        const base = path.posix.normalize(path.posix.join(path.posix.dirname(module), specifier));
        const target = [base, `${base}.js`, `${base}.json`, `${base}/index.js`].find((c) => allNames.has(c));
        if (target === undefined) problems.push(`${module} requires ${specifier}, which is not there`);
        else if (!includedNames.has(target))
          problems.push(`${module} requires ${target}, which .funcignore keeps out`);
        else if (target.endsWith('.js')) pending.push(target);
        continue;
      }
      const name = packageName(specifier);
      packages.add(name);
      if (!(name in manifest.dependencies))
        problems.push(
          `${module} requires ${name}, which is ${name in manifest.devDependencies ? 'a devDependency' : 'not a dependency'}: not installed in production`,
        );
      else if (!existsSync(path.join(staging, 'node_modules', name, 'package.json')))
        problems.push(`${module} requires ${name}, which npm ci --omit=dev did not install`);
    }
  }
  const folders = new Set([...modules].map((module) => path.posix.dirname(module)));
  for (const name of allNames)
    if (name.endsWith('.json') && folders.has(path.posix.dirname(name)) && !includedNames.has(name))
      problems.push(`${name} sits beside modules the functions load, but .funcignore keeps it out`);
  if (problems.length > 0)
    throw new Error(
      `The package would not run (${funcignore.file}, package.json):\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  return { modules: [...modules].sort(), packages: [...packages].sort() };
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function installedPackageCount(staging: string): number {
  const lock = path.join(staging, 'node_modules', '.package-lock.json');
  if (!existsSync(lock)) return 0;
  const parsed: unknown = JSON.parse(readFileSync(lock, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || !('packages' in parsed)) return 0;
  const entries = parsed.packages;
  return typeof entries === 'object' && entries !== null
    ? Object.keys(entries).filter((key) => key.includes('node_modules/')).length
    : 0;
}

async function digest(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    bytes += buffer.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Runs npm: the one running this script when there is one (`npm run package`), else `npm` from PATH. */
function npm(args: readonly string[], cwd: string): Promise<void> {
  const npmCli = process.env.npm_execpath;
  const viaNode = npmCli !== undefined && /npm-cli\.js$/.test(npmCli);
  const command = viaNode ? process.execPath : process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const fullArgs = viaNode ? [npmCli, ...args] : [...args];
  return new Promise((resolve, reject) => {
    execFile(
      command,
      fullArgs,
      {
        cwd,
        timeout: 10 * 60_000,
        maxBuffer: 16 * 1024 * 1024,
        shell: process.platform === 'win32' && !viaNode,
      },
      (error, stdout, stderr) => {
        if (error) {
          const output = `${stdout}${stderr}`.trim().split('\n').slice(-30).join('\n');
          reject(new Error(`npm ${args.join(' ')} failed (${error.message.split('\n')[0]}):\n${output}`));
        } else resolve();
      },
    );
  });
}
