// Public namespace `dd`: the family registry, the flow map, noise, datagen, students and training.
export * from './families/index.js';
export * from './noise.js';
export { flowMap, DEFAULT_FLOW, type FlowMapOpts, type FlowSolver, type FlowGrid } from './flow.js';
export { sequenceFlowMap, type FlowTeacher, type TokenPicker } from './teacher.js';
export { runDatagen, mergeShards, verifyDataset, parseShard, type DatagenConfig } from './datagen.js';
export { openDataset, type Dataset } from './dataset.js';
export { parseTrainConfig, describeConfig, TRAIN_DEFAULTS, type TrainConfig } from './train/config.js';
export { Trainer, formatProgress } from './train/trainer.js';
export type { DDStudent } from './train/student.js';
export { runToyJoint } from './toy/experiment.js';
