import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// style.md: the engine is plain TypeScript over plain data. It may import only its own files: no storage, HTTP,
// queues, `@azure/*`, other packages, or Node built-ins (which would let a clock, file or network in).

const ENGINE = resolve(__dirname, '../../src/engine');

function engineFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return engineFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file names: static and type imports, re-exports, `import()` and `require()`. */
function moduleSpecifiers(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (ts.isStringLiteral(expression)) found.push(expression.text);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const [first] = node.arguments;
      if ((isImport || isRequire) && first) found.push(ts.isStringLiteral(first) ? first.text : '<computed>');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) found.push(literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Why a specifier in a file under src/engine is not allowed, or undefined when it is. */
function forbidden(fileName: string, specifier: string): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) {
    return `imports "${specifier}", which is not a relative import of another engine file`;
  }
  const target = resolve(dirname(fileName), specifier);
  if (target !== ENGINE && !target.startsWith(`${ENGINE}${sep}`)) {
    return `imports "${specifier}", which leaves src/engine`;
  }
  return undefined;
}

describe('the engine’s import boundary', () => {
  const files = engineFiles(ENGINE);

  it('finds the engine’s source files', () => {
    expect(files.map((f) => relative(ENGINE, f))).toEqual(
      expect.arrayContaining(['evaluate.ts', 'reference.ts']),
    );
  });

  it.each(files.map((f) => [relative(ENGINE, f), f] as const))(
    '%s imports only other files of src/engine',
    (_name, file) => {
      const problems = moduleSpecifiers(file, readFileSync(file, 'utf8'))
        .map((specifier) => forbidden(file, specifier))
        .filter((problem): problem is string => problem !== undefined);
      expect(problems).toEqual([]);
    },
  );

  it.each([
    ["import { TableClient } from '@azure/data-tables';", 'not a relative import'],
    ["import type { HttpRequest } from '@azure/functions';", 'not a relative import'],
    ["import { readFileSync } from 'node:fs';", 'not a relative import'],
    ["import { randomUUID } from 'crypto';", 'not a relative import'],
    ["export { z } from 'zod';", 'not a relative import'],
    ["import { loadCatalog } from '../catalog/load.js';", 'leaves src/engine'],
    ["import { ledger } from '../storage/seat-ledger.js';", 'leaves src/engine'],
    ["const q = await import('@azure/storage-queue');", 'not a relative import'],
    ["const fs = require('fs');", 'not a relative import'],
    ["type T = import('../api/types.js').Body;", 'leaves src/engine'],
  ])('rejects %s', (line, reason) => {
    const file = join(ENGINE, 'example.ts');
    const problems = moduleSpecifiers(file, line).map((s) => forbidden(file, s));
    expect(problems).toEqual([expect.stringContaining(reason)]);
  });

  it('accepts relative imports of engine files', () => {
    const file = join(ENGINE, 'example.ts');
    const specifiers = moduleSpecifiers(
      file,
      "import type { Guid } from './model.js';\nexport * from './seats.js';",
    );
    expect(specifiers.map((s) => forbidden(file, s))).toEqual([undefined, undefined]);
  });
});
