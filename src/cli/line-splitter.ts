/**
 * Splits a byte stream into lines at '\n' (0x0A) only: a line's bytes are kept exactly, '\r' and
 * invalid UTF-8 included, so `weir produce` then `weir consume` gives back the input's bytes.
 * The empty remainder after a final '\n' is not a line; a last line without '\n' is.
 *
 * Bounded: a line longer than `lineBytesMax` is an error (MESSAGE_TOO_LARGE), not a growing
 * buffer. Lines are views of the chunks they came from where they fit in one (no copy).
 */
import { WeirError } from '../errors.ts'

const NEWLINE = 0x0a

export class LineSplitter {
  private partial: Buffer[] = []
  private partialBytes = 0
  /** 1-based number of the next line, for messages. */
  lineNumber = 1

  constructor(private readonly lineBytesMax: number) {}

  /** The whole lines `chunk` completes, in order. */
  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = []
    let start = 0
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, end)
      this.checkLength(this.partialBytes + piece.length)
      lines.push(this.partial.length === 0 ? piece
        : Buffer.concat([...this.partial, piece], this.partialBytes + piece.length))
      this.partial = []
      this.partialBytes = 0
      this.lineNumber++
      start = end + 1
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start)
      this.checkLength(this.partialBytes + rest.length)
      this.partial.push(rest)
      this.partialBytes += rest.length
    }
    return lines
  }

  /** The last line when the input did not end with '\n'. */
  end(): Buffer | undefined {
    if (this.partial.length === 0) return undefined
    const line = Buffer.concat(this.partial, this.partialBytes)
    this.partial = []
    this.partialBytes = 0
    this.lineNumber++
    return line
  }

  private checkLength(bytes: number): void {
    if (bytes > this.lineBytesMax) {
      throw new WeirError('MESSAGE_TOO_LARGE', `Line ${this.lineNumber} is longer than `
        + `${this.lineBytesMax} bytes; a record's value must fit in one request.`)
    }
  }
}

/** The lines of a byte stream (stdin, a file), as LineSplitter cuts them. */
export async function* readLines(input: AsyncIterable<Buffer | string>, lineBytesMax: number):
AsyncGenerator<Buffer> {
  const splitter = new LineSplitter(lineBytesMax)
  for await (const chunk of input) {
    yield* splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  }
  const last = splitter.end()
  if (last !== undefined) yield last
}
