// ddar's Node entry, the public API: tensors at top level, `loadPipeline` for generation, and
// one namespace per layer (llamagen, var, dd, io, eval, sampling). Importing it changes no
// global state: the backend is chosen explicitly (`selectBackend`, or loadPipeline's `backend`).

export * from './tensor/index.js';
export * as sampling from './sampling/index.js';
export * as llamagen from './models/llamagen/index.js';
export * as var from './models/var/index.js';
export * as dd from './dd/index.js';
export * as io from './io/index.js';
export * as eval from './eval/index.js';
export { selectBackend, type BackendChoice } from './backend/select.js';
export { kernels, setBackend, referenceBackend } from './backend/registry.js';
export {
  loadPipeline,
  Pipeline,
  GeneratedImage,
  type BackendName,
  type PipelineOptions,
  type PipelineInfo,
  type GenerateOptions,
  type GenerateResult,
} from './pipeline.js';
export type { GenerateProgress, Method, ModelSpec, TeacherSampling } from './dd/families/family.js';
