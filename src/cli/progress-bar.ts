/**
 * The progress bar `weir produce --file` draws on stderr when stderr is a terminal: one line
 * redrawn in place (`\r`), at most every `REDRAW_MS`, erased when done so the summary starts on a
 * clean line. Not drawn when stderr is a pipe or a file: scripts get no control characters.
 */

const REDRAW_MS = 100
const BAR_WIDTH = 30

/** One frame: `[#######.......]  45%  12,345 records  3.1/7.0 MB`. Pure, for tests. */
export function renderProgress(doneBytes: number, totalBytes: number, records: number): string {
  const fraction = totalBytes <= 0 ? 1 : Math.min(1, Math.max(0, doneBytes / totalBytes))
  const filled = Math.round(fraction * BAR_WIDTH)
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4)
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${percent}  `
    + `${records.toLocaleString('en-US')} records  ${megabytes(doneBytes)}/`
    + `${megabytes(totalBytes)} MB`
}

function megabytes(bytes: number): string {
  return (bytes / 1_000_000).toFixed(1)
}

export class ProgressBar {
  private lastDrawMs = -Infinity
  private drawn = false

  constructor(private readonly totalBytes: number,
    private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(doneBytes: number, records: number): void {
    const now = performance.now()
    if (now - this.lastDrawMs < REDRAW_MS) return
    this.lastDrawMs = now
    this.stream.write(`\r${renderProgress(doneBytes, this.totalBytes, records)}\x1b[K`)
    this.drawn = true
  }

  /** Erases the bar. */
  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K')
    this.drawn = false
  }
}
