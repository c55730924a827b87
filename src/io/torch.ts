// Safe reader of PyTorch checkpoints saved by torch.save (zip format, torch >= 1.6).
// `<archive>/data.pkl` is run by the pickle VM with an allow-list of globals: tensor rebuild
// functions, storage types, dtypes and OrderedDict. Nothing is ever executed. Tensors stay
// lazy references (storage, offset, size, stride) until materialised; each storage
// (`<archive>/data/<key>`) is read once and shared by the views into it.

import { closeSync, openSync, readSync } from 'node:fs';
import { Tensor } from '../tensor/tensor.js';
import {
  PyDict,
  PyExtension,
  PyTuple,
  describe,
  unpickle,
  type PickleHooks,
  type PyValue,
} from './pickle.js';
import {
  decodeStored,
  storedSize,
  type DecodeOptions,
  type DecodedArray,
  type StoredDType,
} from './stored-dtype.js';
import { openZip, type ZipReader } from './zip.js';

const STORAGE_TYPES: Readonly<Record<string, StoredDType>> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

const TORCH_DTYPES: Readonly<Record<string, StoredDType>> = {
  float32: 'F32',
  float: 'F32',
  float16: 'F16',
  half: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  double: 'F64',
  int64: 'I64',
  long: 'I64',
  int32: 'I32',
  int: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

type Callable =
  | 'OrderedDict'
  | 'rebuild_tensor_v2'
  | 'rebuild_parameter'
  | 'rebuild_parameter_with_state'
  | 'codecs_encode'
  | 'Namespace';

/** An allowed global: a storage type, a dtype, or one of the allowed callables. */
export class TorchGlobal extends PyExtension {
  constructor(
    readonly qualname: string,
    readonly kind: { storage: StoredDType } | { dtype: StoredDType } | { call: Callable },
  ) {
    super();
  }
  describe(): string {
    return this.qualname;
  }
}

export class TorchStorage extends PyExtension {
  private cache: DecodedArray | null = null;
  constructor(
    readonly key: string,
    readonly dtype: StoredDType,
    readonly numel: number,
    private readonly load: () => Uint8Array,
  ) {
    super();
  }
  describe(): string {
    return `storage ${this.key} (${this.dtype} x ${this.numel})`;
  }
  /** Reads and decodes the storage once; later calls share the result. */
  decoded(opts: DecodeOptions, what: string): DecodedArray {
    if (
      this.cache === null ||
      (opts.keepF64 === true && this.dtype === 'F64' && !(this.cache instanceof Float64Array))
    ) {
      this.cache = decodeStored(this.load(), this.dtype, this.numel, what, opts);
    }
    return this.cache;
  }
}

export class TorchTensorRef extends PyExtension {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {
    super();
  }
  get dtype(): StoredDType {
    return this.storage.dtype;
  }
  describe(): string {
    return `tensor ${this.dtype} [${this.shape.join(', ')}]`;
  }
  /** A contiguous Tensor (float32 / float64 / int32) with the view's values. */
  materialize(what: string, opts: DecodeOptions = {}): Tensor {
    const src = this.storage.decoded(opts, what);
    let n = 1;
    for (const d of this.shape) n *= d;
    const contiguous = isContiguous(this.shape, this.stride);
    if (contiguous && this.offset === 0 && n === src.length) return new Tensor(src, this.shape);
    if (contiguous) return new Tensor(src.slice(this.offset, this.offset + n), this.shape);
    const out =
      src instanceof Float32Array
        ? new Float32Array(n)
        : src instanceof Float64Array
          ? new Float64Array(n)
          : new Int32Array(n);
    const r = this.shape.length;
    const idx = new Array<number>(r).fill(0);
    let p = this.offset;
    for (let i = 0; i < n; i++) {
      out[i] = src[p] as number;
      for (let a = r - 1; a >= 0; a--) {
        const s = this.stride[a] as number;
        if ((idx[a] as number) + 1 < (this.shape[a] as number)) {
          idx[a] = (idx[a] as number) + 1;
          p += s;
          break;
        }
        p -= s * (idx[a] as number);
        idx[a] = 0;
      }
    }
    return new Tensor(out, this.shape);
  }
}

/** An inert record (argparse.Namespace): attributes kept as data, nothing run. */
export class PyRecord extends PyExtension {
  state: PyValue = null;
  constructor(readonly qualname: string) {
    super();
  }
  describe(): string {
    return this.qualname;
  }
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i] as number;
    if (d !== 1 && stride[i] !== acc) return false;
    acc *= d;
  }
  return true;
}

function refuse(module: string, name: string): never {
  const q = `${module}.${name}`;
  if (q === 'torch.storage._load_from_bytes') {
    throw new Error(
      `refused pickle global ${q}: it unpickles nested legacy data (a storage saved with the pre-1.6 format); ` +
        'HINT: re-save the checkpoint with torch>=1.6 (torch.save(obj, path)) from a trusted environment',
    );
  }
  throw new Error(
    `refused pickle global ${q}: only torch tensor rebuild calls and containers are allowed ` +
      '(HINT: save a plain state dict, e.g. torch.save({"model": model.state_dict()}, path), or convert it to safetensors)',
  );
}

function resolveGlobal(module: string, name: string): TorchGlobal {
  const q = `${module}.${name}`;
  if (module === 'collections' && name === 'OrderedDict')
    return new TorchGlobal(q, { call: 'OrderedDict' });
  if (module === 'torch._utils') {
    if (name === '_rebuild_tensor_v2') return new TorchGlobal(q, { call: 'rebuild_tensor_v2' });
    if (name === '_rebuild_parameter') return new TorchGlobal(q, { call: 'rebuild_parameter' });
    if (name === '_rebuild_parameter_with_state')
      return new TorchGlobal(q, { call: 'rebuild_parameter_with_state' });
  }
  if (module === 'torch') {
    const s = STORAGE_TYPES[name];
    if (s !== undefined) return new TorchGlobal(q, { storage: s });
    const d = TORCH_DTYPES[name];
    if (d !== undefined) return new TorchGlobal(q, { dtype: d });
  }
  if (module === '_codecs' && name === 'encode')
    return new TorchGlobal(q, { call: 'codecs_encode' });
  if (module === 'argparse' && name === 'Namespace')
    return new TorchGlobal(q, { call: 'Namespace' });
  return refuse(module, name);
}

function intArg(v: PyValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new Error(
      `${what}: expected a non-negative integer, found ${v === undefined ? 'nothing' : describe(v)}`,
    );
  }
  return v;
}

function intTuple(v: PyValue | undefined, what: string): number[] {
  if (!(v instanceof PyTuple))
    throw new Error(
      `${what}: expected a tuple of integers, found ${v === undefined ? 'nothing' : describe(v)}`,
    );
  return v.items.map((x) => intArg(x, what));
}

function rebuildTensor(args: readonly PyValue[], what: string): TorchTensorRef {
  const [storage, off, size, stride] = args;
  if (!(storage instanceof TorchStorage))
    throw new Error(
      `${what}: _rebuild_tensor_v2 expects a storage, found ${storage === undefined ? 'nothing' : describe(storage)}`,
    );
  const offset = intArg(off, `${what}: storage offset`);
  const shape = intTuple(size, `${what}: size`);
  const strides = intTuple(stride, `${what}: stride`);
  if (shape.length !== strides.length)
    throw new Error(`${what}: size has ${shape.length} dims but stride has ${strides.length}`);
  // The last element the view touches must lie inside the storage.
  let n = 1;
  let last = offset;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i] as number;
    n *= d;
    last += (d - 1) * (strides[i] as number);
  }
  if (
    !Number.isSafeInteger(n) ||
    (n > 0 && (last >= storage.numel || !Number.isSafeInteger(last)))
  ) {
    throw new Error(
      `${what}: view (offset ${offset}, size [${shape.join(', ')}], stride [${strides.join(', ')}]) reaches beyond its ${describe(storage)}`,
    );
  }
  return new TorchTensorRef(storage, offset, shape, strides);
}

function makeHooks(zip: ZipReader, prefix: string, what: string): PickleHooks {
  const storages = new Map<string, TorchStorage>();
  return {
    resolveGlobal,
    call(callable, args) {
      if (!(callable instanceof TorchGlobal) || !('call' in callable.kind)) {
        throw new Error(`${what}: pickle calls ${describe(callable)}, which is not callable here`);
      }
      switch (callable.kind.call) {
        case 'OrderedDict':
          if (args.length !== 0)
            throw new Error(`${what}: OrderedDict with constructor arguments is not supported`);
          return new PyDict();
        case 'rebuild_tensor_v2':
          return rebuildTensor(args, what);
        case 'rebuild_parameter':
        case 'rebuild_parameter_with_state': {
          const data = args[0];
          if (!(data instanceof TorchTensorRef))
            throw new Error(`${what}: _rebuild_parameter expects a tensor`);
          return data;
        }
        case 'codecs_encode': {
          const [s, enc] = args;
          if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1'))
            throw new Error(`${what}: _codecs.encode only supports (str, 'latin1')`);
          return new Uint8Array(Buffer.from(s, 'latin1'));
        }
        case 'Namespace':
          return new PyRecord(callable.qualname);
        default:
          return callable.kind.call satisfies never;
      }
    },
    build(obj, state) {
      if (obj instanceof PyDict) obj.attrs = state;
      else if (obj instanceof PyRecord) obj.state = state;
      else if (!(obj instanceof TorchTensorRef))
        throw new Error(`${what}: BUILD on ${describe(obj)} is not supported`);
      return obj;
    },
    persistentLoad(pid) {
      if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length !== 5) {
        throw new Error(
          `${what}: unsupported persistent id ${describe(pid)}; expected ('storage', type, key, location, numel)`,
        );
      }
      const [, type, key, , numelV] = pid.items;
      if (!(type instanceof TorchGlobal) || !('storage' in type.kind)) {
        throw new Error(
          `${what}: persistent id names ${type === undefined ? 'nothing' : describe(type)}, expected a torch storage type`,
        );
      }
      if (typeof key !== 'string') throw new Error(`${what}: storage key must be a string`);
      const numel = intArg(numelV, `${what}: storage ${key} numel`);
      const dtype = type.kind.storage;
      const existing = storages.get(key);
      if (existing !== undefined) {
        if (existing.dtype !== dtype || existing.numel !== numel)
          throw new Error(
            `${what}: storage ${key} is declared twice with different types or sizes`,
          );
        return existing;
      }
      const entryName = `${prefix}data/${key}`;
      const entry = zip.entries.get(entryName);
      if (entry === undefined)
        throw new Error(`${what}: storage ${key} has no archive entry '${entryName}'`);
      const bytes = numel * storedSize(dtype);
      if (bytes > entry.size) {
        throw new Error(
          `${what}: storage ${key} declares ${numel} x ${dtype} = ${bytes} bytes but its entry holds ${entry.size}; the file is corrupt`,
        );
      }
      const s = new TorchStorage(key, dtype, numel, () => zip.read(entryName));
      storages.set(key, s);
      return s;
    },
  };
}

export interface TorchCheckpoint {
  readonly path: string;
  /** The unpickled object: dicts, lists, numbers, strings and lazy TorchTensorRef leaves. */
  readonly root: PyValue;
  close(): void;
}

const LEGACY_HINT =
  'legacy torch serialization (pre-1.6, not a zip archive); re-save it with torch>=1.6 ' +
  '(torch.save(torch.load(path), path)) or convert it with `ddar convert` after re-saving';

/** Opens a torch.save zip checkpoint and unpickles its object tree (tensors stay lazy). */
export function openTorchCheckpoint(path: string): TorchCheckpoint {
  const head = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  let got: number;
  try {
    got = readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (got >= 2 && head[0] === 0x80 && (head[1] as number) <= 5)
    throw new Error(`${path}: ${LEGACY_HINT}`);
  if (got < 4 || head.readUInt32LE(0) !== 0x04034b50) {
    throw new Error(
      `${path}: not a PyTorch checkpoint (expected a zip archive written by torch.save, found bytes ${head.subarray(0, Math.min(got, 8)).toString('hex')})`,
    );
  }
  const zip = openZip(path);
  try {
    const pkl = [...zip.entries.keys()].filter(
      (k) => k.endsWith('data.pkl') && k.split('/').length === 2,
    );
    if (pkl.length !== 1) {
      throw new Error(
        `${path}: expected exactly one '<archive>/data.pkl' entry, found ${pkl.length}; this zip was not written by torch.save`,
      );
    }
    const prefix = (pkl[0] as string).slice(0, -'data.pkl'.length);
    const bo = zip.entries.has(`${prefix}byteorder`)
      ? Buffer.from(zip.read(`${prefix}byteorder`)).toString('latin1')
      : 'little';
    if (bo !== 'little')
      throw new Error(
        `${path}: big-endian checkpoints (byteorder '${bo}') are not supported; re-save it on a little-endian machine`,
      );
    const root = unpickle(
      zip.read(pkl[0] as string),
      makeHooks(zip, prefix, path),
      `${path} data.pkl`,
    );
    return { path, root, close: () => zip.close() };
  } catch (e) {
    zip.close();
    throw e;
  }
}

// ---- state-dict selection --------------------------------------------------------------

export interface StateDictOptions {
  /** Dict key path to the state dict: 'model', 'ema', 'trainer.ema_parameters', ... */
  key?: string;
}

const AUTO_KEYS = ['model', 'ema', 'state_dict', 'module'] as const;

function stringKeys(d: PyDict): string[] {
  return [...d.map.keys()].filter((k): k is string => typeof k === 'string');
}

/** True for a dict with at least one tensor value and only tensor or scalar values. */
function isTensorDict(v: PyValue | undefined): boolean {
  if (!(v instanceof PyDict)) return false;
  let tensors = 0;
  for (const [k, x] of v.map) {
    if (x instanceof TorchTensorRef) {
      if (typeof k !== 'string') return false;
      tensors++;
    } else if (x instanceof PyDict) return false;
  }
  return tensors > 0;
}

function findTensorDicts(v: PyValue, path: string, depth: number, out: string[]): void {
  if (!(v instanceof PyDict) || depth > 4 || out.length > 20) return;
  if (isTensorDict(v)) {
    out.push(path === '' ? '(top level)' : path);
    return;
  }
  for (const k of stringKeys(v))
    findTensorDicts(v.map.get(k) ?? null, path === '' ? k : `${path}.${k}`, depth + 1, out);
}

function navigate(node: PyValue, path: string, done: string, file: string): PyValue {
  if (!(node instanceof PyDict)) {
    throw new Error(
      `${file}: --key '${done}${path}': '${done.slice(0, -1) || '(top level)'}' is ${describe(node)}, not a dict`,
    );
  }
  if (node.map.has(path)) return node.map.get(path) ?? null;
  let best: string | null = null;
  for (const k of stringKeys(node)) {
    if (path.startsWith(`${k}.`) && (best === null || k.length > best.length)) best = k;
  }
  if (best === null) {
    throw new Error(
      `${file}: --key '${done}${path}' not found; keys at ${done === '' ? 'the top level' : `'${done.slice(0, -1)}'`}: ${stringKeys(node).slice(0, 20).join(', ')}`,
    );
  }
  return navigate(node.map.get(best) ?? null, path.slice(best.length + 1), `${done}${best}.`, file);
}

/** Picks the state dict inside an unpickled checkpoint (see loadTorchCheckpoint). */
export function selectStateDict(
  root: PyValue,
  file: string,
  opts: StateDictOptions = {},
): { dict: PyDict; key: string | null } {
  if (opts.key !== undefined && opts.key !== '') {
    const v = navigate(root, opts.key, '', file);
    if (!(v instanceof PyDict) || !isTensorDict(v)) {
      const found: string[] = [];
      findTensorDicts(v, opts.key, 0, found);
      throw new Error(
        `${file}: --key '${opts.key}' is ${describe(v)}, not a dict of tensors${found.length > 0 ? `; state dicts below it: ${found.join(', ')}` : ''}`,
      );
    }
    return { dict: v, key: opts.key };
  }
  if (root instanceof PyDict && isTensorDict(root)) return { dict: root, key: null };
  if (root instanceof PyDict) {
    const hits = AUTO_KEYS.filter((k) => isTensorDict(root.map.get(k)));
    const picked = hits.length === 1 ? root.map.get(hits[0] as string) : undefined;
    if (picked instanceof PyDict) return { dict: picked, key: hits[0] as string };
    const found: string[] = [];
    findTensorDicts(root, '', 0, found);
    throw new Error(
      `${file}: cannot tell which state dict to load; top-level keys: ${stringKeys(root).slice(0, 30).join(', ') || '(none)'}` +
        `${found.length > 0 ? `; state dicts found at: ${found.join(', ')}` : ''}. HINT: pass --key (e.g. --key ${found[0] ?? 'model'})`,
    );
  }
  throw new Error(
    `${file}: the checkpoint holds ${describe(root)}, not a dict of tensors; HINT: save model.state_dict()`,
  );
}

/** The tensors of a state dict, in order; non-tensor leaves (epoch, step, ...) are skipped. */
export function tensorEntries(dict: PyDict): [string, TorchTensorRef][] {
  const out: [string, TorchTensorRef][] = [];
  for (const [k, v] of dict.map)
    if (typeof k === 'string' && v instanceof TorchTensorRef) out.push([k, v]);
  return out;
}

/** Loads the state dict of a torch.save checkpoint as contiguous tensors. */
export function loadTorchCheckpoint(
  path: string,
  opts: StateDictOptions & DecodeOptions = {},
): Map<string, Tensor> {
  const ckpt = openTorchCheckpoint(path);
  try {
    const { dict } = selectStateDict(ckpt.root, path, opts);
    const out = new Map<string, Tensor>();
    for (const [name, ref] of tensorEntries(dict))
      out.set(name, ref.materialize(`${path} tensor '${name}'`, opts));
    return out;
  } finally {
    ckpt.close();
  }
}
