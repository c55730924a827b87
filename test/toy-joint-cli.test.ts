// `ddar toy-joint` end to end at reduced size (--quick): one JSON object on stdout with the TV
// distances of every method, DD 1-step closer to the exact teacher joint than onestep*; usage
// errors exit 2 with a HINT.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

const bin = resolve('bin/ddar.js');

test('ddar toy-joint --family var --quick --json', { timeout: 300_000 }, () => {
  const r = spawnSync(
    process.execPath,
    [bin, 'toy-joint', '--family', 'var', '--seed', '1', '--quick', '--json'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /train student \[#+\] 300\/300 steps/, 'progress on stderr');
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one JSON line on stdout');
  const j = JSON.parse(lines[0] as string) as Record<string, unknown>;
  for (const k of ['teacher_resample_tv', 'flow_tv', 'dd1_tv', 'dd2_tv', 'onestep_star_tv'])
    assert.ok(
      typeof j[k] === 'number' && (j[k] as number) >= 0 && (j[k] as number) <= 1,
      `${k}: ${String(j[k])}`,
    );
  assert.equal(j.family, 'var');
  assert.equal(j.seed, 1);
  assert.equal(j.eval_samples_per_class, 5000);
  assert.equal(j.sequences, 8 ** 5);
  const tv = j as Record<'teacher_resample_tv' | 'dd1_tv' | 'dd2_tv' | 'onestep_star_tv', number>;
  console.log(
    `toy-joint var --quick seed 1: teacher ${tv.teacher_resample_tv}, DD 1-step ${tv.dd1_tv}, 2-step ${tv.dd2_tv}, onestep* ${tv.onestep_star_tv}`,
  );
  assert.ok(
    tv.dd1_tv < tv.onestep_star_tv,
    `DD 1-step ${tv.dd1_tv} vs onestep* ${tv.onestep_star_tv}`,
  );
  assert.ok(tv.teacher_resample_tv < tv.dd1_tv + 0.05, 'the teacher is the floor');
});

test('ddar toy-joint: usage errors exit 2', () => {
  for (const args of [['--family', 'gpt'], ['--seed', '-1'], ['--dataset', '10'], ['extra']]) {
    const r = spawnSync(process.execPath, [bin, 'toy-joint', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /HINT: ddar toy-joint --help/);
  }
});
