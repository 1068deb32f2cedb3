#!/usr/bin/env node
// npm run bench -- <name> [args]: runs bench/<name>.mjs. Speed lives here, never in tests.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').map((f) => f.slice(0, -4));
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [options]`);
  process.exit(2);
}
process.argv = [process.argv[0], join(here, `${name}.mjs`), ...args];
await import(pathToFileURL(join(here, `${name}.mjs`)).href);
