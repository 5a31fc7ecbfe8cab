/**
 * Splits workloads into waves restarted together: `waveSize` at a time, or all in one wave (emergency
 * mode restarts everything at once). Order is kept, so re-runs form the same waves.
 */
export function restartWaves<T>(items: readonly T[], waveSize: number | 'all'): T[][] {
  if (items.length === 0) return [];
  if (waveSize === 'all') return [[...items]];
  if (!Number.isInteger(waveSize) || waveSize < 1) {
    throw new RangeError(`the restart wave size must be a whole number >= 1, got ${waveSize}`);
  }
  const waves: T[][] = [];
  for (let start = 0; start < items.length; start += waveSize)
    waves.push(items.slice(start, start + waveSize));
  return waves;
}
