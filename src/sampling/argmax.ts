// Greedy decoding: the index of the largest logit of each row.

/** Index of the largest entry of every row of x [rows, V] (first on ties; 0 for a row of −∞). */
export function argmaxRows(x: Float32Array, rows: number, V: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const off = r * V;
    let best = 0;
    let bv = x[off] as number;
    for (let j = 1; j < V; j++) {
      const y = x[off + j] as number;
      if (y > bv) {
        bv = y;
        best = j;
      }
    }
    out[r] = best;
  }
  return out;
}
