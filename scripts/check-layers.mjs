// Enforces the layering of DESIGN.md §3 / STYLE.md §4: each folder of src/ imports only the
// folders below it. Runs as part of `npm test`; prints every violation and exits 1.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const allowed = {
  backend: ['backend'],
  tensor: ['tensor', 'backend'],
  nn: ['nn', 'tensor', 'backend'],
  io: ['io', 'tensor'],
  sampling: ['sampling', 'tensor'],
  models: ['models', 'nn', 'io', 'sampling', 'tensor', 'backend'],
  dd: ['dd', 'models', 'nn', 'io', 'sampling', 'tensor', 'backend'],
  eval: ['eval', 'models', 'nn', 'io', 'sampling', 'tensor', 'backend'],
  cli: ['cli', 'server', 'dd', 'eval', 'models', 'nn', 'io', 'sampling', 'tensor', 'backend'],
  server: ['server', 'dd', 'eval', 'models', 'nn', 'io', 'sampling', 'tensor', 'backend'],
};
// The browser-safe part of backend/ must not reach the Node-only native loader.
const browserSafe = ['src/backend/ts', 'src/backend/kernels.ts', 'src/backend/registry.ts', 'src/tensor'];

const root = resolve('src');
const problems = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) check(p);
  }
}
function check(file) {
  const rel = relative(root, file);
  const layer = rel.split('/')[0];
  if (!(layer in allowed)) return; // top-level entry files (index.ts, browser.ts)
  const src = readFileSync(file, 'utf8');
  const isTest = file.endsWith('.test.ts');
  for (const m of src.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) {
      if (spec.startsWith('node:') && browserSafe.some((b) => relative('.', file).startsWith(b)) && !isTest) {
        problems.push(`${relative('.', file)}: browser-safe code imports ${spec}`);
      }
      continue;
    }
    const target = relative(root, resolve(dirname(file), spec));
    if (target.startsWith('..')) continue;
    const tl = target.split('/')[0];
    if (isTest) continue;
    if (!allowed[layer].includes(tl)) problems.push(`${relative('.', file)}: ${layer}/ may not import ${tl}/ (${spec})`);
    if (browserSafe.some((b) => relative('.', file).startsWith(b)) && target.startsWith('backend/native')) {
      problems.push(`${relative('.', file)}: browser-safe code imports the native backend`);
    }
  }
}
walk(root);
if (problems.length > 0) {
  console.error('layering violations (DESIGN.md §3):\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log('layers: ok');
