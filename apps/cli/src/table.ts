/** Rows as an aligned text table with a header, indented two spaces; "(none)" when empty. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '  (none)';
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => '  ' + vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
