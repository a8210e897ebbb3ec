// The two readings of .funcignore: git's (the `ignore` package, used by npm run package) and Core Tools' (used by
// func azure functionapp publish). The packager refuses to build when they differ on a file; these cases show
// where they do and that the project's own .funcignore stays where they agree.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { coreToolsDenies, disagreements, readFuncignore } from '../../src/package/funcignore.js';
import { repoRoot } from '../support/index.js';

function funcignoreOf(text: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'funcignore-'));
  writeFileSync(path.join(dir, '.funcignore'), text);
  return readFuncignore(dir);
}

describe('Core Tools reading of .funcignore', () => {
  it('anchors every pattern at the app root and ends it at a word boundary', () => {
    const denies = coreToolsDenies('test\n/dist/src/host\n*.log\n');
    expect(denies('test/a.ts')).toBe(true);
    expect(denies('test.json')).toBe(true); // the word boundary: git would keep it
    expect(denies('src/test/a.ts')).toBe(false); // anchored: git would leave it out
    expect(denies('dist/src/host/cli.js')).toBe(true);
    expect(denies('dist/src/hosting.js')).toBe(false);
    expect(denies('a.log')).toBe(true);
    expect(denies('logs/a.log')).toBe(false); // `*` never crosses a `/`
  });

  it('lets any negation win, wherever it stands', () => {
    const denies = coreToolsDenies('!/dist\n/dist/src/host\n');
    expect(denies('dist/src/host/cli.js')).toBe(false);
  });

  it('always leaves out .git, .vscode and the local settings, at any depth', () => {
    const denies = coreToolsDenies('');
    expect(denies('.git/config')).toBe(true);
    expect(denies('a/.vscode/settings.json')).toBe(true);
    expect(denies('local.settings.json')).toBe(true);
    expect(denies('node_modules/x/.gitignore')).toBe(true);
    expect(denies('host.json')).toBe(false);
  });
});

describe('disagreements', () => {
  it('names the files the two tools treat differently', () => {
    const funcignore = funcignoreOf('test\n!/dist\n/dist/src/host\n');
    expect(
      disagreements(funcignore, ['test.json', 'src/test/a.ts', 'dist/src/host/cli.js', 'host.json']),
    ).toEqual([
      { path: 'test.json', packageScript: 'in', coreTools: 'out' },
      { path: 'src/test/a.ts', packageScript: 'out', coreTools: 'in' },
      { path: 'dist/src/host/cli.js', packageScript: 'out', coreTools: 'in' },
    ]);
  });

  it("finds none for the project's .funcignore on the paths that matter", () => {
    const funcignore = readFuncignore(repoRoot);
    const paths = [
      'host.json',
      'package.json',
      'package-lock.json',
      'dist/functions/health.js',
      'dist/functions/health.js.map',
      'dist/src/catalog/catalog.json',
      'dist/src/host/cli.js',
      'dist/src/simulator/cli.js',
      'dist/src/package/cli.js',
      'dist/src/bench/cli.js',
      'src/host/cli.ts',
      'functions/health.ts',
      'test/host/http.test.ts',
      'local.settings.json',
      'local.settings.example.json',
      '.azurite/__azurite_db_table__.json',
      'dist-package/app.zip',
      'node_modules/@azure/functions/package.json',
      'node_modules/@azure/functions/types/index.d.ts',
      'node_modules/zod/v4/index.js.map',
      'node_modules/zod/v4/index.js',
    ];
    expect(disagreements(funcignore, paths)).toEqual([]);
    const kept = paths.filter((p) => !funcignore.ignores(p));
    expect(kept).toEqual([
      'host.json',
      'package.json',
      'dist/functions/health.js',
      'dist/functions/health.js.map',
      'dist/src/catalog/catalog.json',
      'node_modules/@azure/functions/package.json',
      'node_modules/zod/v4/index.js',
    ]);
  });
});
