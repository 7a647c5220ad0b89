/** The number of elements of a tensor shape (1 for a scalar's empty shape): a sample's values, a window's entries. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}
