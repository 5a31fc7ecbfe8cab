// One table, two renderings: aligned plain text for the terminal and a Markdown table for
// docs/performance.md, so the figures a reader sees in either place come from the same rows.

export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Columns whose cells are right-aligned (numbers). */
  readonly numeric?: readonly number[];
}

export function renderText(table: Table, indent = '  '): string[] {
  const widths = table.columns.map((column, index) =>
    Math.max(column.length, ...table.rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((cell, index) => {
        const width = widths[index] ?? 0;
        return table.numeric?.includes(index) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(table.columns), ...table.rows.map(line)];
}

export function renderMarkdown(table: Table): string[] {
  const cellText = (cell: string) => cell.replaceAll('|', '\\|');
  const separator = table.columns.map((_, index) => (table.numeric?.includes(index) ? '---:' : '---'));
  return [
    `| ${table.columns.map(cellText).join(' | ')} |`,
    `| ${separator.join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(cellText).join(' | ')} |`),
  ];
}

/** 1234 ms -> "1.23 s"; below a second in ms. */
export function formatDuration(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** Bytes in KB/MB (1 MB = 1,000,000 bytes, as Lambda's limits are stated). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(2)} MB`;
  if (bytes >= 1_000) return `${(bytes / 1_000).toFixed(1)} kB`;
  return `${bytes} B`;
}

/** The lowest and highest of values as `low-high`, or one value where both read the same. */
export function formatRange(values: readonly number[], format: (value: number) => string): string {
  const low = format(Math.min(...values));
  const high = format(Math.max(...values));
  return low === high ? low : `${low}-${high}`;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
