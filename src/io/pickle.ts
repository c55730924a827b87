// A pickle virtual machine (protocols 0-5) that never executes anything. Globals are looked
// up through `hooks.resolveGlobal`, which must refuse everything not on its allow-list; REDUCE,
// NEWOBJ and BUILD only ever call back into the hooks with already-resolved values.
// Every length is checked against the bytes that remain before anything is allocated.

/** Values the VM produces. Tuples, dicts and sets are classes; lists are arrays. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PySet
  | PyExtension;

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export class PyDict {
  readonly map = new Map<PyValue, PyValue>();
  /** Attributes set by BUILD (e.g. a state dict's `_metadata`); kept, never interpreted. */
  attrs: PyValue = null;
}

export class PySet {
  readonly items: PyValue[] = [];
}

/** Base class of hook-defined values (resolved globals, tensors, storages, ...). */
export abstract class PyExtension {
  abstract describe(): string;
}

export interface PickleHooks {
  /** Returns the value of an allowed global; throws for anything else. */
  resolveGlobal(module: string, name: string): PyValue;
  /** REDUCE / NEWOBJ: apply an allowed callable to arguments. */
  call(callable: PyValue, args: readonly PyValue[]): PyValue;
  /** BUILD: set state on an object; returns the object. */
  build(obj: PyValue, state: PyValue): PyValue;
  /** BINPERSID / PERSID. */
  persistentLoad(pid: PyValue): PyValue;
}

const MAX_MEMO = 10_000_000;
const MAX_DEPTH = 10_000_000;

export function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'string')
    return `str ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v !== 'object') return `${typeof v} ${String(v)}`;
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  if (Array.isArray(v)) return `list(${v.length})`;
  if (v instanceof PyTuple) return `tuple(${v.items.length})`;
  if (v instanceof PyDict) return `dict(${v.map.size})`;
  if (v instanceof PySet) return `set(${v.items.length})`;
  return v.describe();
}

/** Runs a pickle program and returns the value left by STOP. `what` names it in errors. */
export function unpickle(bytes: Uint8Array, hooks: PickleHooks, what = 'pickle'): PyValue {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let pos = 0;
  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  const text = new TextDecoder('utf-8', { fatal: true });

  const err = (msg: string): never => {
    throw new Error(`${what}: ${msg} (at byte ${pos} of ${n})`);
  };
  const need = (k: number): void => {
    if (k < 0 || pos + k > n) err(`truncated: needs ${k} more bytes, ${n - pos} remain`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++] as number;
  };
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(n)) err(`declared length ${v} exceeds the ${n}-byte pickle`);
    return Number(v);
  };
  const take = (k: number): Uint8Array => {
    need(k);
    const b = bytes.slice(pos, pos + k);
    pos += k;
    return b;
  };
  const str = (k: number): string => {
    need(k);
    let s: string;
    try {
      s = text.decode(bytes.subarray(pos, pos + k));
    } catch {
      err('invalid UTF-8 in a string');
    }
    pos += k;
    return s!;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) err('truncated: missing end of line');
    const s = Buffer.from(bytes.buffer, bytes.byteOffset + pos, end - pos).toString('latin1');
    pos = end + 1;
    return s;
  };
  const push = (v: PyValue): void => {
    if (stack.length >= MAX_DEPTH) err('stack too deep');
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0) err('stack underflow (malformed pickle)');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) err('stack underflow (malformed pickle)');
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) err('MARK expected but missing (malformed pickle)');
    stack = prev!;
    return items;
  };
  const put = (idx: number): void => {
    if (memo.size >= MAX_MEMO && !memo.has(idx)) err('memo too large');
    memo.set(idx, top());
  };
  const get = (idx: number): void => {
    if (!memo.has(idx)) err(`memo key ${idx} was never stored (malformed pickle)`);
    push(memo.get(idx) as PyValue);
  };
  const setItems = (target: PyValue, kv: readonly PyValue[]): void => {
    if (!(target instanceof PyDict)) err(`SETITEM(S) on ${describe(target)}, expected a dict`);
    if (kv.length % 2 !== 0) err('SETITEMS with an odd number of items');
    const m = (target as PyDict).map;
    for (let i = 0; i < kv.length; i += 2) m.set(kv[i] as PyValue, kv[i + 1] as PyValue);
  };
  const appendItems = (target: PyValue, items: readonly PyValue[]): void => {
    if (Array.isArray(target)) target.push(...items);
    else if (target instanceof PySet) target.items.push(...items);
    else err(`APPEND(S) on ${describe(target)}, expected a list`);
  };
  const longFrom = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] as number);
    if (((b[b.length - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  };
  const intText = (s: string, op: string): number | bigint => {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[-+]?\d+$/.test(t)) err(`${op}: bad integer literal ${JSON.stringify(s.slice(0, 30))}`);
    const v = BigInt(t);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  };
  const globalOf = (module: string, name: string): PyValue => hooks.resolveGlobal(module, name);

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) err('pickle protocol above 5 is not supported');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (marks.length !== 0) err('STOP with an open MARK (malformed pickle)');
        return pop();
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0 && marks.length > 0) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(longFrom(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        const k = i32();
        if (k < 0) err('LONG4 with a negative length');
        push(longFrom(take(k)));
        break;
      }
      case 0x49: {
        // INT (text); "I00"/"I01" are False/True
        const s = line();
        push(s === '00' ? false : s === '01' ? true : intText(s, 'INT'));
        break;
      }
      case 0x4c: // LONG (text)
        push(intText(line(), 'LONG'));
        break;
      case 0x46: {
        // FLOAT (text)
        const v = Number(line());
        if (Number.isNaN(v)) err('FLOAT: bad literal');
        push(v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        push(str(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(str(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(str(u64()));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text; only plain text is accepted)
        push(line());
        break;
      case 0x54: // BINSTRING (py2 str, latin1)
        {
          const k = i32();
          push(Buffer.from(take(k)).toString('latin1'));
        }
        break;
      case 0x55: // SHORT_BINSTRING
        push(Buffer.from(take(u8())).toString('latin1'));
        break;
      case 0x53: {
        // STRING (quoted repr): accept simple quoted literals only
        const s = line();
        const m = /^(['"])(.*)\1$/.exec(s);
        if (m === null) err('STRING: unsupported literal');
        push((m as RegExpExecArray)[2] as string);
        break;
      }
      case 0x42: // BINBYTES
        push(take(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        push(take(u64()));
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
        push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        push(new PyTuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        push(new PyTuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new PyDict();
        setItems(d, items);
        push(d);
        break;
      }
      case 0x8f: // EMPTY_SET
        push(new PySet());
        break;
      case 0x91: {
        // FROZENSET
        const s = new PySet();
        s.items.push(...popMark());
        push(s);
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof PySet)) err(`ADDITEMS on ${describe(s)}, expected a set`);
        (s as PySet).items.push(...items);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x70: // PUT
        put(Number(intText(line(), 'PUT')));
        break;
      case 0x71: // BINPUT
        put(u8());
        break;
      case 0x72: // LONG_BINPUT
        put(u32());
        break;
      case 0x94: // MEMOIZE
        put(memo.size);
        break;
      case 0x67: // GET
        get(Number(intText(line(), 'GET')));
        break;
      case 0x68: // BINGET
        get(u8());
        break;
      case 0x6a: // LONG_BINGET
        get(u32());
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        push(globalOf(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          err('STACK_GLOBAL needs two strings');
        push(globalOf(module as string, name as string));
        break;
      }
      case 0x69: {
        // INST: module, name lines, then MARKed args — resolved like GLOBAL + call
        const module = line();
        const name = line();
        const callable = globalOf(module, name);
        push(hooks.call(callable, popMark()));
        break;
      }
      case 0x6f: {
        // OBJ: MARK callable args...
        const items = popMark();
        if (items.length === 0) err('OBJ without a class');
        push(hooks.call(items[0] as PyValue, items.slice(1)));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        if (!(args instanceof PyTuple))
          err(`REDUCE arguments must be a tuple, found ${describe(args)}`);
        push(hooks.call(callable, (args as PyTuple).items));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        if (!(args instanceof PyTuple))
          err(`NEWOBJ arguments must be a tuple, found ${describe(args)}`);
        push(hooks.call(cls, (args as PyTuple).items));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX: keyword arguments are not accepted by any allowed class
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(args instanceof PyTuple)) err('NEWOBJ_EX arguments must be a tuple');
        if (!(kwargs instanceof PyDict) || kwargs.map.size !== 0)
          err(`NEWOBJ_EX with keyword arguments on ${describe(cls)} is not supported`);
        push(hooks.call(cls, (args as PyTuple).items));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = pop();
        push(hooks.build(obj, state));
        break;
      }
      case 0x51: // BINPERSID
        push(hooks.persistentLoad(pop()));
        break;
      case 0x50: // PERSID
        push(hooks.persistentLoad(line()));
        break;
      case 0x82:
      case 0x83:
      case 0x84:
        err('copyreg extension codes (EXT1/2/4) are refused');
        break;
      case 0x97:
      case 0x98:
        err('out-of-band buffers (NEXT_BUFFER / READONLY_BUFFER) are refused');
        break;
      default:
        err(`unknown opcode 0x${op.toString(16).padStart(2, '0')} (corrupt data, or not a pickle)`);
    }
  }
}
