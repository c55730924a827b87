import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRAIN_DEFAULTS, checkResumable, describeConfig, parseTrainConfig } from './config.js';

test('defaults fill every key and are printed', () => {
  const c = parseTrainConfig({ family: 'llamagen', dataset: 'd', out: 'o' });
  for (const [k, v] of Object.entries(TRAIN_DEFAULTS))
    assert.deepEqual(c[k as keyof typeof c], v, k);
  const text = describeConfig(c, { family: 1, dataset: 1, out: 1 });
  assert.match(text, /lr\s+= 0.0001 {2}\(default\)/);
  assert.match(text, /family\s+= "llamagen"$/m);
});

test('every problem of a bad config is listed at once, with the valid keys', () => {
  const bad = {
    family: 'gpt',
    dataset: '',
    out: 'o',
    lr: -1,
    betas: [0.9],
    timesteps: [0, 'x'],
    steps: 1.5,
    emaWarmup: 'yes',
    learningRate: 3,
  };
  assert.throws(
    () => parseTrainConfig(bad),
    (e: Error) => {
      for (const s of [
        "unknown key 'learningRate'",
        "'family' must be 'llamagen' or 'var'",
        "'dataset' must be a non-empty string",
        "'lr' must be a positive number",
        "'betas' must be two numbers",
        "'timesteps' must be a non-empty list",
        "'steps' must be a positive integer",
        "'emaWarmup' must be true or false",
        'valid keys: family, dataset',
      ])
        assert.ok(e.message.includes(s), `missing: ${s}\n${e.message}`);
      return true;
    },
  );
  assert.throws(() => parseTrainConfig([]), /expected a JSON object/);
  assert.throws(
    () => parseTrainConfig({ family: 'var', dataset: 'd', out: 'o', ceWeight: 0, mseWeight: 0 }),
    /nothing would be trained/,
  );
  assert.throws(
    () => parseTrainConfig({ family: 'var', dataset: 'd', out: 'o', teacher: { gpt: 'x' } }),
    /'teacher' must be/,
  );
});

test('resume accepts bookkeeping changes and refuses training changes', () => {
  const a = parseTrainConfig({ family: 'var', dataset: 'd', out: 'o' });
  checkResumable(
    a,
    parseTrainConfig({ family: 'var', dataset: 'd2', out: 'o2', steps: 99999, logEvery: 1 }),
  );
  assert.throws(
    () =>
      checkResumable(
        a,
        parseTrainConfig({ family: 'var', dataset: 'd', out: 'o', lr: 0.5, seed: 3 }),
      ),
    /'seed' \(0 → 3\), 'lr' \(0.0001 → 0.5\)/,
  );
});

test('lpips: off by default; defaults filled in and printed; bad values listed', () => {
  assert.equal(parseTrainConfig({ family: 'llamagen', dataset: 'd', out: 'o' }).lpips, null);
  const c = parseTrainConfig({
    family: 'var',
    dataset: 'd',
    out: 'o',
    lpips: { weights: 'vgg.pth' },
  });
  assert.deepEqual(c.lpips, { weights: 'vgg.pth', vgg: null, weight: 1, every: 1 });
  assert.match(
    describeConfig(c, { lpips: 1 }),
    /lpips\s+= \{"weights":"vgg.pth","vgg":null,"weight":1,"every":1\}$/m,
  );
  assert.throws(
    () =>
      parseTrainConfig({
        family: 'var',
        dataset: 'd',
        out: 'o',
        lpips: { vgg: 3, weight: 0, every: 1.5, net: 'alex' },
      }),
    (e: Error) => {
      for (const s of [
        "unknown key 'lpips.net'",
        "'lpips.weights' must be a file path (required)",
        "'lpips.vgg' must be a file path or null",
        "'lpips.weight' must be a positive number",
        "'lpips.every' must be a positive integer",
      ])
        assert.ok(e.message.includes(s), `missing: ${s}\n${e.message}`);
      return true;
    },
  );
});
