/**
 * Tables for people: a header row in capitals, columns aligned, numbers right-aligned, two spaces
 * between columns, no trailing spaces. Widths count UTF-16 code units, which is exact for the
 * names Weir allows (topics and group ids are ASCII in practice).
 */

export type Cell = string | number

export interface Column {
  readonly header: string
  /** Right-aligned; numbers are by default. */
  readonly right?: boolean
}

export function formatTable(columns: ReadonlyArray<Column | string>,
  rows: ReadonlyArray<readonly Cell[]>): string {
  const specs: Column[] = columns.map(column => typeof column === 'string'
    ? { header: column } : column)
  const text = rows.map(row => specs.map((_, i) => cellText(row[i])))
  const widths = specs.map((spec, i) => Math.max(spec.header.length,
    ...text.map(row => row[i]!.length)))
  const right = specs.map((spec, i) => spec.right
    ?? (rows.length > 0 && rows.every(row => typeof row[i] === 'number')))
  const line = (cells: readonly string[]): string => cells.map((cell, i) => right[i]
    ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)).join('  ').trimEnd()
  return [line(specs.map(spec => spec.header)), ...text.map(line)].join('\n') + '\n'
}

function cellText(cell: Cell | undefined): string {
  if (cell === undefined) return ''
  return typeof cell === 'number' ? String(cell) : cell
}

/** 'k=v, k2=v2' of an object's entries, or '-' when it has none. */
export function formatPairs(object: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(object).filter(([, value]) => value !== undefined)
  if (entries.length === 0) return '-'
  return entries.map(([key, value]) => `${key}=${typeof value === 'object'
    ? JSON.stringify(value) : String(value)}`).join(', ')
}
