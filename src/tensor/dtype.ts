// DType and its typed-array class. float32 is the compute type; float64 exists for
// finite-difference gradient checks on the `ts` backend; int32 holds indices and tokens.

export type DType = 'float32' | 'float64' | 'int32';
export type FloatDType = 'float32' | 'float64';

export interface DTypeArray {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
}

export type FloatArray = Float32Array | Float64Array;
export type TypedArray = Float32Array | Float64Array | Int32Array;

export function allocArray<D extends DType>(dtype: D, size: number): DTypeArray[D];
export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    default:
      return dtype satisfies never;
  }
}

export function dtypeOf(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  return 'int32';
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype !== 'int32';
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}
