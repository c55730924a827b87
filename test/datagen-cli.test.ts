// `ddar datagen` end to end: a run killed with SIGKILL part-way and restarted with the same
// command ends with files byte-identical to an uninterrupted run; merge and verify pass.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFixturesDir } from '../src/io/testing.js';

const fixtures = findFixturesDir();
const bin = resolve('bin/ddar.js');

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out.set(rel + e.name, readFileSync(join(d, e.name)).toString('base64'));
    }
  };
  walk(dir, '');
  return out;
}

test('datagen resumes after SIGKILL to byte-identical files', { skip: !fixtures, timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'ddar-dg-cli-'));
  try {
    const args = (out: string) => [bin, 'datagen', 'llamagen', '--fixture', join(fixtures as string, 'llamagen_gpt'), '--n', '240', '--chunk', '6', '--batch', '3', '--top-k', '30', '--out', out];
    const whole = join(root, 'whole');
    const r = spawnSync(process.execPath, args(whole), { encoding: 'utf8', env: { ...process.env, DDAR_BACKEND: 'ts' } });
    assert.equal(r.status, 0, r.stderr);
    const killed = join(root, 'killed');
    const manifest = join(killed, 'shard-00000-of-00001.json');
    const child = spawn(process.execPath, args(killed), { stdio: 'ignore', env: { ...process.env, DDAR_BACKEND: 'ts' } });
    let killedEarly = false;
    await new Promise<void>((done) => {
      const poll = setInterval(() => {
        if (existsSync(manifest) && !JSON.parse(readFileSync(manifest, 'utf8')).complete) {
          child.kill('SIGKILL');
          killedEarly = true;
          clearInterval(poll);
        }
      }, 2);
      child.on('exit', () => {
        clearInterval(poll);
        done();
      });
    });
    assert.ok(killedEarly, 'the run finished before it could be killed');
    const partial = JSON.parse(readFileSync(manifest, 'utf8')) as { chunks: unknown[]; complete: boolean };
    assert.equal(partial.complete, false);
    const again = spawnSync(process.execPath, args(killed), { encoding: 'utf8', env: { ...process.env, DDAR_BACKEND: 'ts' } });
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(snapshot(killed), snapshot(whole));
    const merge = spawnSync(process.execPath, [bin, 'datagen', 'merge', killed], { encoding: 'utf8' });
    assert.equal(merge.status, 0, merge.stderr);
    const verify = spawnSync(process.execPath, [bin, 'datagen', 'verify', killed, '--deep'], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /OK: 40 chunks, 240 samples verified \(deep\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('datagen usage errors exit 2 with a hint', () => {
  const r = spawnSync(process.execPath, [bin, 'datagen', 'llamagen', '--n', '3'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--out is required/);
  const s = spawnSync(process.execPath, [bin, 'datagen', 'var', '--n', '3', '--out', '/tmp/x', '--store-noise', 'f8'], { encoding: 'utf8' });
  assert.equal(s.status, 2);
  assert.match(s.stderr, /--store-noise f8/);
});
