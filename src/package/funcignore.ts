// .funcignore: the one list of what stays out of the deployment package. `func azure functionapp publish` reads
// it, and so does `npm run package`, with the `ignore` package (git's rules). The two readers differ: Core Tools'
// GitIgnoreParser (a port of codemix/gitignore-parser) anchors every pattern at the app root, lets any `!`
// pattern win whatever its place, reads `*` as "one or more characters other than /" and `**` as "one or more
// characters", ends each pattern at a word boundary (so `/test` also covers `test.json`), and always leaves out
// the folders `.git` and `.vscode` and the files `.funcignore`, `.gitignore`, `local.settings.json` and
// `project.lock.json`, wherever they are. `coreToolsDenies` reproduces that reading so the packager can check,
// file by file, that both tools leave out the same files.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ignore from 'ignore';

export const FUNCIGNORE = '.funcignore';

export interface Funcignore {
  readonly file: string;
  readonly text: string;
  /** Whether git's rules (the `ignore` package) keep `relativePath` out; a folder ends with `/`. */
  ignores(relativePath: string): boolean;
}

/** Reads `<appDir>/.funcignore`; a missing file is an error, because it is the list of what stays out. */
export function readFuncignore(appDir: string): Funcignore {
  const file = path.join(appDir, FUNCIGNORE);
  if (!existsSync(file))
    throw new Error(
      `${file} is missing: it lists what stays out of the deployment package (gitignore syntax).`,
    );
  const text = readFileSync(file, 'utf8');
  // Case-sensitive like git on Linux and like Core Tools' regular expressions.
  const matcher = ignore({ ignorecase: false }).add(text);
  return { file, text, ignores: (relativePath) => matcher.ignores(relativePath) };
}

const ALWAYS_OUT_FOLDERS = ['.git', '.vscode'];
const ALWAYS_OUT_FILES = ['.funcignore', '.gitignore', 'local.settings.json', 'project.lock.json'];

function coreToolsRegex(patterns: readonly string[]): RegExp | undefined {
  if (patterns.length === 0) return undefined;
  const body = [...patterns].sort().map((pattern) =>
    pattern
      .replace(/[-[\]/{}()+?.\\^$|]/g, '\\$&')
      .replace(/\*\*/g, '(.+)')
      .replace(/\*/g, '([^\\/]+)'),
  );
  return new RegExp(`^((${body.join(')|(')}))\\b`);
}

/**
 * Core Tools' reading of a .funcignore: does `func azure functionapp publish` leave out the file at
 * `relativePath` (forward slashes, relative to the app folder)? It only ever asks about files.
 */
export function coreToolsDenies(funcignoreText: string): (relativePath: string) => boolean {
  const positive: string[] = [];
  const negative: string[] = [];
  for (const raw of funcignoreText.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const isNegative = line.startsWith('!');
    if (isNegative) line = line.slice(1);
    if (line.startsWith('/')) line = line.slice(1);
    (isNegative ? negative : positive).push(line);
  }
  const denied = coreToolsRegex(positive);
  const accepted = coreToolsRegex(negative);
  return (relativePath) => {
    const parts = relativePath.split('/');
    const name = (parts.at(-1) ?? '').toLowerCase();
    if (parts.slice(0, -1).some((folder) => ALWAYS_OUT_FOLDERS.includes(folder.toLowerCase()))) return true;
    if (ALWAYS_OUT_FILES.includes(name)) return true;
    if (accepted?.test(relativePath)) return false;
    return denied?.test(relativePath) ?? false;
  };
}

export interface Disagreement {
  readonly path: string;
  /** What `npm run package` does with the file. */
  readonly packageScript: 'in' | 'out';
  /** What `func azure functionapp publish` does with it. */
  readonly coreTools: 'in' | 'out';
}

/** The files (relative, forward slashes) on which the two readings of the .funcignore differ. */
export function disagreements(funcignore: Funcignore, files: Iterable<string>): Disagreement[] {
  const coreTools = coreToolsDenies(funcignore.text);
  const found: Disagreement[] = [];
  for (const file of files) {
    const ours = funcignore.ignores(file);
    const theirs = coreTools(file);
    if (ours !== theirs)
      found.push({ path: file, packageScript: ours ? 'out' : 'in', coreTools: theirs ? 'out' : 'in' });
  }
  return found;
}
