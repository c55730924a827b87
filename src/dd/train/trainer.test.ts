import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Trainer } from './trainer.js';
import { tinyRun } from './testing.js';

const run = tinyRun();

test('resume continues bit-identically: the same losses step for step, weights, EMA and AdamW state', () => {
  const cfg = run.config();
  const a = new Trainer(cfg, run.student(), run.dataset);
  const full = a.run();
  assert.equal(full.length, 12);
  const cfgB = run.config();
  const b = new Trainer(cfgB, run.student(), run.dataset);
  b.run(5); // as if killed right after the step-5 checkpoint
  const c = new Trainer(cfgB, run.student(99), run.dataset); // other fresh weights: all must come from the checkpoint
  assert.equal(c.resume().step, 5);
  const rest = c.run();
  assert.deepEqual(
    rest.map((m) => m.loss),
    full.slice(5).map((m) => m.loss),
  );
  assert.deepEqual(
    rest.map((m) => m.gradNorm),
    full.slice(5).map((m) => m.gradNorm),
  );
  const wa = [...a.student.module.stateDict()];
  const wc = c.student.module.stateDict();
  for (const [k, t] of wa) assert.deepEqual(wc.get(k)?.data, t.data, `weight ${k}`);
  const ea = a.ema.stateDict();
  for (const [k, t] of c.ema.stateDict()) assert.deepEqual(t.data, ea.get(k)?.data, `EMA ${k}`);
  const oa = a.opt.stateDict();
  for (const [k, t] of c.opt.stateDict()) assert.deepEqual(t.data, oa.get(k)?.data, `AdamW ${k}`);
  // The metrics log of the resumed run matches the uninterrupted one line for line (train lines).
  const lines = (p: string) =>
    readFileSync(join(p, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l.includes('"loss"'));
  assert.deepEqual(lines(cfgB.out), lines(cfg.out));
});

test('training lowers the loss and validation reports accuracy, MSE by range and flow-map agreement', () => {
  const tr = new Trainer(run.config({ steps: 40, lr: 3e-3 }), run.student(), run.dataset);
  const ms = tr.run();
  const first = ms.slice(0, 5).reduce((s, m) => s + m.loss, 0);
  const last = ms.slice(-5).reduce((s, m) => s + m.loss, 0);
  assert.ok(last < first, `loss should fall: ${first / 5} → ${last / 5}`);
  const r = tr.validate();
  assert.equal(r.samples, 16);
  assert.equal(r.byTimestep.length, 2); // default [0, mid]
  assert.equal(r.byTimestep[0]?.ranges.length, 4);
  for (const x of [r.agreement1, r.agreement2]) assert.ok(x >= 0 && x <= 1);
  const log = readFileSync(join(tr.cfg.out, 'metrics.jsonl'), 'utf8');
  assert.ok(log.includes('val/agree1'), 'validation metrics are logged');
  assert.ok(existsSync(join(tr.cfg.out, 'latest.json')));
});

test('a dataset of another shape is refused with a hint', () => {
  const cfg = run.config();
  const st = run.student();
  const wrong = { ...run.dataset, seqLen: 5 };
  assert.throws(() => new Trainer(cfg, st, wrong), /dataset .* has 5 tokens .*HINT/);
  assert.throws(
    () => new Trainer(run.config({ timesteps: [0, 9] }), st, run.dataset),
    /timestep 9 is outside \[0, 3\]/,
  );
});
