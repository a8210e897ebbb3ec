// A small glob expander for package.json "main" (the worker uses globby). Node 20 has no fs.glob.
// Supports `*`, `?`, `**` (any depth, including none), `[...]` classes and `{a,b}` alternatives.
// Dot files and folders match only when the pattern segment itself starts with a dot, as in globby.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** `a/{b,c}/{d,e{f,g}}` → every alternative, left to right. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
    } else if (ch === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        const body = pattern.slice(start + 1, i);
        const alternatives = splitTopLevel(body);
        if (alternatives.length < 2) continue;
        const prefix = pattern.slice(0, start);
        const suffix = pattern.slice(i + 1);
        return alternatives.flatMap((alt) => expandBraces(prefix + alt + suffix));
      }
    }
  }
  return [pattern];
}

function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] ?? '';
    if (ch === '\\') {
      current += ch + (body[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** One path segment of a glob (no `/`, no braces) as an anchored RegExp. */
export function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i] ?? '';
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '\\') {
      source += escapeRegExp(segment[i + 1] ?? '');
      i++;
    } else if (ch === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
      } else {
        const inner = segment
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        source += `[${inner}]`;
        i = close;
      }
    } else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function hasMagic(segment: string): boolean {
  return /[*?[]/.test(segment);
}

/**
 * Files under `cwd` matching `pattern` (absolute paths). Each brace alternative is expanded in order and its
 * matches sorted, so the load order is deterministic; duplicates keep their first position.
 */
export function globFiles(pattern: string, cwd: string): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const alternative of expandBraces(pattern.replace(/\\/g, '/'))) {
    const absolute = path.isAbsolute(alternative);
    const segments = alternative.split('/').filter((s, i) => s !== '' && !(s === '.' && i === 0));
    const base = absolute ? path.parse(alternative).root : cwd;
    const matches: string[] = [];
    walk(base, segments, matches);
    matches.sort();
    for (const file of matches) {
      if (!seen.has(file)) {
        seen.add(file);
        result.push(file);
      }
    }
  }
  return result;
}

function walk(dir: string, segments: string[], out: string[]): void {
  const [segment, ...rest] = segments;
  if (segment === undefined) return;
  if (segment === '**') {
    walk(dir, rest.length === 0 ? ['*'] : rest, out); // zero folders; a trailing ** means every file
    for (const entry of listDir(dir)) {
      if (entry.isDir && !entry.name.startsWith('.')) walk(path.join(dir, entry.name), segments, out);
    }
    return;
  }
  if (!hasMagic(segment)) {
    const next = path.join(dir, segment.replace(/\\(.)/g, '$1'));
    visit(next, rest, out);
    return;
  }
  const regexp = segmentRegExp(segment);
  for (const entry of listDir(dir)) {
    if (entry.name.startsWith('.') && !segment.startsWith('.')) continue;
    if (regexp.test(entry.name)) visit(path.join(dir, entry.name), rest, out);
  }
}

function visit(target: string, rest: string[], out: string[]): void {
  const kind = kindOf(target);
  if (kind === undefined) return;
  if (rest.length === 0) {
    if (kind === 'file') out.push(target);
  } else if (kind === 'dir') {
    walk(target, rest, out);
  }
}

function listDir(dir: string): { name: string; isDir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((d) => ({
      name: d.name,
      isDir: d.isDirectory() || (d.isSymbolicLink() && kindOf(path.join(dir, d.name)) === 'dir'),
    }));
  } catch {
    return [];
  }
}

function kindOf(target: string): 'file' | 'dir' | undefined {
  try {
    const stat = statSync(target);
    return stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}
