// Runs the README's library example (the first ```js block of "## Library") as a program that
// imports the package by name, so the documented public API never rots.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { decodePng } from '../src/io/png.js';

const root = resolve(import.meta.dirname, '..', '..');

test('README library example generates a PNG grid through the public API', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const lib = readme.slice(readme.indexOf('## Library'));
  const m = /```js\n([\s\S]*?)```/.exec(lib);
  assert.ok(m, 'README has a ```js block under ## Library');
  const work = mkdtempSync(join(tmpdir(), 'ddar-readme-'));
  // Inside the package folder so that `import 'ddar'` resolves to this checkout (self-reference).
  const file = join(root, 'dist', `readme-example-${process.pid}.mjs`);
  try {
    writeFileSync(file, m[1] as string);
    const r = spawnSync(process.execPath, [file], { cwd: work, encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.status, 0, `example failed:\n${r.stderr}`);
    assert.equal(r.stdout.trim(), '2 256 true');
    assert.match(r.stderr, /dd 1\/1/);
    const png = decodePng(readFileSync(join(work, 'grid.png')));
    assert.ok(png.width >= 512 && png.height >= 256, `grid is ${png.width}×${png.height}`);
    let mean = 0;
    for (const v of png.data) mean += v;
    mean /= png.data.length;
    let varr = 0;
    for (const v of png.data) varr += (v - mean) ** 2;
    assert.ok(varr / png.data.length > 10, 'the grid is not blank');
  } finally {
    rmSync(file, { force: true });
    rmSync(work, { recursive: true, force: true });
  }
});
