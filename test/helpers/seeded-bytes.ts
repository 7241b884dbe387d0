// Reproducible test bytes from a linear congruential generator: the same seed gives the same
// bytes, and they are incompressible enough that zip stores them as they are.

export function seededBytes(length: number, seed: number): Buffer {
  let state = seed >>> 0
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    out[i] = state >>> 24
  }
  return out
}
