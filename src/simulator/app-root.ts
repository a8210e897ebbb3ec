import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The function app's folder (the one whose package.json names this project), from compiled or source code alike. */
export function appRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
      if (
        typeof parsed === 'object' &&
        parsed !== null &&
        'name' in parsed &&
        parsed.name === 'group-licensing-functions'
      )
        return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Could not find the function app above ${from}`);
    dir = parent;
  }
}
