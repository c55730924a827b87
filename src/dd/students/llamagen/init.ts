// Initialising a DD student: the official fresh initialisation (DDTransformer.initialize_weights)
// and init_with_teacher (dd.py), which copies the teacher into it before training.
//
// Fresh init (initialize_weights, config.initializer_range = 0.02):
//   every Linear weight N(0, 0.02²), bias 0; every Embedding N(0, 0.02²) (class table, n_d_embed);
//   then `output` zeroed; RMSNorm weights 1; final_layer_conti.scale_shift_table N(0, 1)/√D
//   (drawn in FinalLayer's constructor, untouched by apply()).
// init_with_teacher, in the official order:
//   1. cls_embedding table ← teacher's (copy_: the shapes must agree, so the teacher needs its
//      CFG null row, i.e. class_dropout_prob > 0 as all released teachers have)
//   2. the RoPE table ← the teacher's own table object (not recomputed)
//   3. transformer layers: zip(student.layers.parameters(), teacher.layers.parameters()), i.e.
//      pairs by PARAMETER ORDER, not by name, and stops at the shorter list
//   4. norm.weight and output.weight ← teacher's
// Quirks kept (as published): (3) silently leaves the extra layers of a deeper student at their
// fresh init and copies a shallower prefix of a deeper teacher; (2) adopts a teacher table built
// for another grid (the forward then refuses a table with too few rows); the teacher's token
// table is never used (the student's tok_embeddings is a Linear of another shape). Values drawn
// here come from our counter-based Rng, not torch's generator: same distributions, other numbers.

import type { Rng, Tensor } from '../../../tensor/index.js';
import { normal_ } from '../../../nn/init.js';
import type { Transformer } from '../../../models/llamagen/gpt.js';
import { LabelEmbedder } from '../../../models/llamagen/gpt.js';
import type { DDTransformer } from './student.js';

export const INITIALIZER_RANGE = 0.02;

/** The official fresh initialisation of every student parameter (see the header). */
export function initDDStudent(
  student: DDTransformer,
  rng: Rng,
  std = INITIALIZER_RANGE,
): DDTransformer {
  for (const [name, t] of student.namedTensors()) {
    if (name === 'final_layer_conti.scale_shift_table')
      normal_(t, 1 / Math.sqrt(student.config.dim), rng);
    else if (name.endsWith('norm.weight')) t.data.fill(1);
    else if (name.endsWith('.bias')) t.data.fill(0);
    else if (name === 'output.weight') t.data.fill(0);
    else normal_(t, std, rng);
  }
  return student;
}

export interface InitReport {
  /** Student tensors overwritten from the teacher (student name ← teacher name). */
  readonly copied: readonly (readonly [string, string])[];
  /** Student tensors left at their fresh initialisation. */
  readonly fresh: readonly string[];
}

function copyInto(what: string, dst: Tensor, src: Tensor): void {
  if (dst.shape.length !== src.shape.length || dst.shape.some((d, i) => d !== src.shape[i])) {
    throw new Error(
      `initFromTeacher: ${what}: the student's [${dst.shape.join(', ')}] cannot take the teacher's [${src.shape.join(', ')}] (build the student with the teacher's sizes)`,
    );
  }
  dst.data.set(src.data);
}

/** Fresh init, then init_with_teacher exactly as dd.py maps teacher → student (see the header). */
export function initFromTeacher(
  student: DDTransformer,
  teacher: Transformer,
  rng: Rng,
): InitReport {
  initDDStudent(student, rng);
  const copied: [string, string][] = [];
  // 1. class table
  const te = teacher.cls_embedding;
  if (!(te instanceof LabelEmbedder))
    throw new Error(
      'initFromTeacher: the teacher is text-conditional; DD students are class-conditional',
    );
  const rowsT = te.embedding_table.weight.shape[0] as number;
  const rowsS = student.cls_embedding.embedding_table.weight.shape[0] as number;
  if (rowsT !== rowsS) {
    throw new Error(
      `initFromTeacher: the teacher's class table has ${rowsT} rows, the student's ${rowsS} (num_classes + 1); the teacher needs its CFG null row (class_dropout_prob > 0)`,
    );
  }
  copyInto(
    'cls_embedding',
    student.cls_embedding.embedding_table.weight,
    te.embedding_table.weight,
  );
  copied.push(['cls_embedding.embedding_table.weight', 'cls_embedding.embedding_table.weight']);
  // 2. the teacher's RoPE table object
  student.freqsCis = teacher.freqsCis;
  // 3. layers by parameter order (zip stops at the shorter list)
  const sl = student.layers.flatMap((l, i) => l.namedParameters(`layers.${i}.`));
  const tl = teacher.layers.flatMap((l, i) => l.namedParameters(`layers.${i}.`));
  for (let i = 0; i < Math.min(sl.length, tl.length); i++) {
    const [sn, st] = sl[i] as [string, Tensor];
    const [tn, tt] = tl[i] as [string, Tensor];
    copyInto(`${sn} ← ${tn}`, st, tt);
    copied.push([sn, tn]);
  }
  // 4. logits head
  copyInto('norm.weight', student.norm.weight as Tensor, teacher.norm.weight as Tensor);
  copyInto('output.weight', student.output.weight, teacher.output.weight);
  copied.push(['norm.weight', 'norm.weight'], ['output.weight', 'output.weight']);
  const done = new Set(copied.map(([s]) => s));
  const fresh = [...student.stateDict().keys()].filter((k) => !done.has(k));
  return { copied, fresh };
}
