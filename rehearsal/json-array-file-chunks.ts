// history.json and children.json as text, a slice at a time: the same text as
// `${JSON.stringify(items, null, 2)}\n`, never all of it in memory at once. A rehearsal of 100 clusters
// x 10 workloads writes 67 MB of history.json and 27 MB of children.json; as one string each, with
// what JSON.stringify builds on the way, they were allocated at the very end of the run, on top of
// everything the run still held.

/** About this many characters a slice, so a large file is written in a few hundred writes, not one per item. */
const SLICE_CHARS = 1 << 20;

/** `${JSON.stringify(items, null, 2)}\n` in slices of about SLICE_CHARS, each item stringified on its own. */
export function* jsonArrayFileChunks(items: readonly unknown[]): Generator<string> {
  if (items.length === 0) {
    yield '[]\n';
    return;
  }
  let slice = '[\n';
  for (const [index, item] of items.entries()) {
    // As JSON.stringify writes an array element: a value JSON has no text for (undefined, a function)
    // is null, and each line of the element is indented one level.
    const text = JSON.stringify(item, null, 2) ?? 'null';
    slice += `  ${text.replaceAll('\n', '\n  ')}${index === items.length - 1 ? '\n]\n' : ',\n'}`;
    if (slice.length >= SLICE_CHARS) {
      yield slice;
      slice = '';
    }
  }
  if (slice !== '') yield slice;
}
