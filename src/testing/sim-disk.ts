/**
 * `SimDisk`: an in-memory `FileSystem` that models the durability contract of
 * src/util/file-system.ts, so property tests can cut the power at any point and check what a
 * crash-safe log recovers (the ALICE / TigerBeetle-VOPR approach, deterministic from a seed).
 *
 * What it owns:
 * - Files are inodes. Each inode has a volatile image (the page cache, what reads see), a durable
 *   image (what is on the platter) and the log of writes and truncates since its last `datasync`,
 *   which `datasync` replays onto the durable image and a torn power failure replays in part.
 * - Each directory maps names to inodes, in a volatile and a durable view. Creations, renames and
 *   unlinks are queued in order until `syncDirectory` of a directory they touch promotes them.
 *   A rename is one queued operation touching both directories, so it is atomic, as in a
 *   journalling file system.
 * - Open handles hold the inode, so an unlinked file stays usable through them (as on Linux).
 *
 * Invariants: the durable image plus the pending log, replayed in order, equals the volatile
 * image; bytes past a growable buffer's length are zero, so gaps read back as zeros.
 *
 * Deliberately not modelled: directories are durable as soon as `mkdir` returns and can't be
 * renamed or removed; no permissions, links, timestamps or free-space limits. `corrupt` also
 * flips the byte inside unsynced writes that cover it, so a later `datasync` keeps the flip.
 *
 * The file is over 300 lines because the brief confines the simulator to this one file; the
 * natural split is growable-bytes, torn replay, and the disk.
 */
import { posix } from 'node:path'
import type { FileHandle, FileSystem, OpenMode } from '../util/file-system.ts'

/** A source of uniform numbers in [0, 1); `mulberry32(seed)` is one. */
export interface RandomSource {
  random(): number
}

/** Small seeded PRNG, so a failing power-failure outcome replays from its seed. */
export function mulberry32(seed: number): RandomSource {
  let state = seed >>> 0
  return {
    random(): number {
      state = (state + 0x6d2b79f5) >>> 0
      let t = state
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    },
  }
}

/** `'lose-unsynced'`: only synced state survives. `'torn'`: unsynced state survives in part. */
export type PowerFailureMode = 'lose-unsynced' | 'torn'

export interface PowerFailureOptions {
  mode: PowerFailureMode
  /** Chooses what a torn failure keeps; defaults to the disk's own PRNG (see `seed`). */
  random?: RandomSource
}

export interface SimDiskOptions {
  /** Seeds the PRNG used when `powerFailure` is given no `random`. Default 0. */
  seed?: number
  /** Largest file; a write or truncate beyond it fails with code `EFBIG`. Default 256 MiB. */
  fileBytesMax?: number
  /** Unsynced bytes one file may hold; beyond it writes fail with `ENOMEM`. Default 256 MiB. */
  unsyncedBytesMax?: number
  /** Unsynced directory operations; beyond it they fail with `ENOMEM`. Default 100 000. */
  unsyncedDirectoryOpsMax?: number
}

/** Thrown by the operation `crashAfter` aimed at, and by every operation after it. */
export class SimulatedCrashError extends Error {
  readonly code = 'SIMULATED_CRASH'
  constructor(readonly operation: string) {
    super(`simulated crash at ${operation}; call restart() or powerFailure() to go on`)
    this.name = 'SimulatedCrashError'
  }
}

const sectorBytes = 512
const mebibyte = 1024 * 1024

function fsError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(`${code}: ${message}`), { code })
}

/** A byte array with spare capacity that doubles, so appends don't copy the file each time. */
class GrowableBytes {
  private buffer: Buffer
  private used = 0

  constructor(capacity = 0) {
    this.buffer = Buffer.alloc(capacity)
  }

  static copyOf(source: GrowableBytes): GrowableBytes {
    const copy = new GrowableBytes(source.used)
    source.buffer.copy(copy.buffer, 0, 0, source.used)
    copy.used = source.used
    return copy
  }

  get length(): number {
    return this.used
  }

  view(): Buffer {
    return this.buffer.subarray(0, this.used)
  }

  /** Zero-length writes don't extend the file, as with pwrite(2). */
  write(data: Uint8Array, position: number): void {
    if (data.length === 0) return
    this.resize(Math.max(this.used, position + data.length))
    this.buffer.set(data, position)
  }

  resize(length: number): void {
    if (length > this.buffer.length) {
      let capacity = Math.max(64, this.buffer.length)
      while (capacity < length) capacity *= 2
      const grown = Buffer.alloc(capacity)
      this.buffer.copy(grown, 0, 0, this.used)
      this.buffer = grown
    } else if (length < this.used) {
      // Keep the tail zero so a later extension reads zeros, not resurrected bytes.
      this.buffer.fill(0, length, this.used)
    }
    this.used = length
  }

  xorAt(position: number, mask: number): void {
    if (position < this.used) this.buffer[position] = (this.buffer[position] ?? 0) ^ mask
  }
}

type PendingFileOp =
  | { kind: 'write'; position: number; bytes: Buffer }
  | { kind: 'truncate'; length: number }

function applyFileOp(image: GrowableBytes, op: PendingFileOp): void {
  if (op.kind === 'write') image.write(op.bytes, op.position)
  else image.resize(op.length)
}

class Inode {
  volatile = new GrowableBytes()
  durable = new GrowableBytes()
  pending: PendingFileOp[] = []
  pendingBytes = 0

  record(op: PendingFileOp): void {
    applyFileOp(this.volatile, op)
    this.pending.push(op)
    if (op.kind === 'write') this.pendingBytes += op.bytes.length
  }

  datasync(): void {
    for (const op of this.pending) applyFileOp(this.durable, op)
    this.pending = []
    this.pendingBytes = 0
  }

  /** After a power failure what survived is on disk: both images are `image`, nothing pending. */
  settle(image: GrowableBytes): void {
    this.durable = image
    this.volatile = GrowableBytes.copyOf(image)
    this.pending = []
    this.pendingBytes = 0
  }
}

/** How many bytes of an unsynced write reach the disk: none, all, or a prefix. */
function keptBytes(op: { position: number; bytes: Buffer }, random: RandomSource): number {
  const length = op.bytes.length
  const choice = Math.floor(random.random() * 4)
  if (choice === 0) return 0
  if (choice === 1) return length
  if (choice === 2) return Math.floor(random.random() * length)
  // Cut at a sector boundary strictly inside the write; a write within one sector is atomic.
  const end = op.position + length
  const first = (Math.floor(op.position / sectorBytes) + 1) * sectorBytes
  if (first >= end) return length
  const boundaries = Math.floor((end - 1 - first) / sectorBytes) + 1
  return first + Math.floor(random.random() * boundaries) * sectorBytes - op.position
}

/**
 * What a torn power failure leaves of a file: the durable image, then each unsynced operation
 * in order kept, dropped or (writes) cut short, since dirty pages go back in any order. Last,
 * the ALICE "non-atomic append": the size may reach the page-cache size with zeros or garbage.
 */
function tornImage(inode: Inode, random: RandomSource): GrowableBytes {
  const image = GrowableBytes.copyOf(inode.durable)
  for (const op of inode.pending) {
    if (op.kind === 'truncate') {
      if (random.random() < 0.5) image.resize(op.length)
      continue
    }
    const kept = keptBytes(op, random)
    image.write(op.bytes.subarray(0, kept), op.position)
  }
  const start = image.length
  const volatileLength = inode.volatile.length
  if (volatileLength > start && random.random() < 0.25) {
    image.resize(volatileLength)
    if (random.random() < 0.5) {
      const tail = image.view()
      for (let i = start; i < volatileLength; i++) tail[i] = Math.floor(random.random() * 256)
    }
  }
  return image
}

type DirectoryOp =
  | { kind: 'link'; directory: string; name: string; inode: Inode }
  | { kind: 'unlink'; directory: string; name: string; inode: Inode }
  | { kind: 'rename'; from: Entry; to: Entry; inode: Inode }

interface Entry {
  directory: string
  name: string
}

/** Directory path -> entry name -> inode. */
type Tree = Map<string, Map<string, Inode>>

function touches(op: DirectoryOp, directory: string): boolean {
  if (op.kind === 'rename') return op.from.directory === directory || op.to.directory === directory
  return op.directory === directory
}

/** Applies by inode, so an operation whose source is already gone in `tree` is harmless. */
function applyDirectoryOp(tree: Tree, op: DirectoryOp): void {
  const remove = (entry: Entry): void => {
    const entries = tree.get(entry.directory)
    if (entries?.get(entry.name) === op.inode) entries.delete(entry.name)
  }
  if (op.kind === 'unlink') return remove(op)
  if (op.kind === 'link') return void tree.get(op.directory)?.set(op.name, op.inode)
  remove(op.from)
  tree.get(op.to.directory)?.set(op.to.name, op.inode)
}

function cloneTree(tree: Tree): Tree {
  return new Map([...tree].map(([directory, entries]) => [directory, new Map(entries)]))
}

function normalize(path: string): string {
  const normalized = posix.normalize(path)
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized
}

function split(path: string): Entry {
  const normalized = normalize(path)
  return { directory: posix.dirname(normalized), name: posix.basename(normalized) }
}

/**
 * In-memory simulated disk with power failure, process crash and at-rest faults.
 *
 * @example
 * const disk = new SimDisk({ seed })
 * const file = await disk.open('/log/0.log', 'create')
 * await file.write(bytes, 0)
 * await disk.powerFailure({ mode: 'torn', random: mulberry32(seed) })
 * @throws `ENOENT`, `EISDIR`, `EBADF`, `EIO` (stale handle), `EFBIG`, `ENOMEM` (limits) and
 *   `SimulatedCrashError` once `crashAfter` fires.
 */
export class SimDisk implements FileSystem {
  private volatileTree: Tree = new Map()
  private durableTree: Tree = new Map()
  private pendingDirectoryOps: DirectoryOp[] = []
  private generation = 0
  private operations = 0
  private crashAt: number | undefined
  private crashed = false
  private readonly random: RandomSource
  /** @internal Read by `SimFileHandle`. */
  readonly limits: Required<Omit<SimDiskOptions, 'seed'>>

  constructor(options: SimDiskOptions = {}) {
    this.random = mulberry32(options.seed ?? 0)
    this.limits = {
      fileBytesMax: options.fileBytesMax ?? 256 * mebibyte,
      unsyncedBytesMax: options.unsyncedBytesMax ?? 256 * mebibyte,
      unsyncedDirectoryOpsMax: options.unsyncedDirectoryOpsMax ?? 100_000,
    }
    for (const root of ['/', '.']) this.addDirectory(root)
  }

  /** Mutating operations started since construction (the crashing one is not counted). */
  get operationCount(): number {
    return this.operations
  }

  /** Lets `count` more mutating operations run; the next throws and so does all after it. */
  async crashAfter(count: number): Promise<void> {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`bad count ${count}`)
    this.crashAt = this.operations + count
  }

  /** Models kill -9: handles die and the crash trigger clears, but the page cache survives. */
  async restart(): Promise<void> {
    this.generation++
    this.crashAt = undefined
    this.crashed = false
  }

  /** Models pulling the plug: handles die and only what reached the disk survives. */
  async powerFailure(options: PowerFailureOptions): Promise<void> {
    await this.restart()
    const random = options.random ?? this.random
    const tree = cloneTree(this.durableTree)
    if (options.mode === 'torn') {
      for (const op of this.pendingDirectoryOps) {
        if (random.random() < 0.5) applyDirectoryOp(tree, op)
      }
    }
    const survivors = new Set<Inode>()
    for (const entries of tree.values()) for (const inode of entries.values()) survivors.add(inode)
    for (const inode of survivors) {
      const lost = options.mode === 'torn' ? tornImage(inode, random) : inode.durable
      inode.settle(lost)
    }
    this.volatileTree = tree
    this.durableTree = cloneTree(tree)
    this.pendingDirectoryOps = []
  }

  /** At-rest bit rot: XORs one byte in every image of the file. */
  async corrupt(path: string, fault: { position: number; xorMask: number }): Promise<void> {
    const inode = this.lookupOrThrow(path)
    const { position, xorMask } = fault
    if (!Number.isInteger(xorMask) || xorMask < 1 || xorMask > 255) {
      throw new RangeError(`xorMask must be 1..255, got ${xorMask}`)
    }
    if (position < 0 || position >= Math.max(inode.volatile.length, inode.durable.length)) {
      throw new RangeError(`position ${position} is outside ${path}`)
    }
    inode.volatile.xorAt(position, xorMask)
    inode.durable.xorAt(position, xorMask)
    for (const op of inode.pending) {
      if (op.kind !== 'write') continue
      const at = position - op.position
      if (at >= 0 && at < op.bytes.length) op.bytes[at] = (op.bytes[at] ?? 0) ^ xorMask
    }
  }

  /** At-rest loss of a file's tail, in every image and in its unsynced writes. */
  async truncateAtRest(path: string, length: number): Promise<void> {
    const inode = this.lookupOrThrow(path)
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`bad length ${length}`)
    inode.volatile.resize(Math.min(inode.volatile.length, length))
    inode.durable.resize(Math.min(inode.durable.length, length))
    // Clip the pending log too, so replaying it still yields the volatile image.
    inode.pending = inode.pending.map((op) => op.kind === 'truncate'
      ? { kind: 'truncate', length: Math.min(op.length, length) }
      : { ...op, bytes: op.bytes.subarray(0, Math.max(0, length - op.position)) })
  }

  /** Path -> copy of the volatile contents of every reachable file. */
  async snapshot(): Promise<Record<string, Buffer>> {
    const files: Record<string, Buffer> = {}
    for (const [directory, entries] of [...this.volatileTree].sort(([a], [b]) => a < b ? -1 : 1)) {
      for (const [name, inode] of [...entries].sort(([a], [b]) => a < b ? -1 : 1)) {
        files[posix.join(directory, name)] = Buffer.from(inode.volatile.view())
      }
    }
    return files
  }

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    this.checkAlive()
    if (mode === 'create') this.tick(`open ${path}`)
    const entry = split(path)
    const entries = this.volatileTree.get(entry.directory)
    if (entries === undefined) throw fsError('ENOENT', `no directory ${entry.directory}`)
    if (this.volatileTree.has(normalize(path))) throw fsError('EISDIR', `${path} is a directory`)
    let inode = entries.get(entry.name)
    if (inode === undefined) {
      if (mode !== 'create') throw fsError('ENOENT', `no file ${path}`)
      inode = new Inode()
      this.queue({ kind: 'link', ...entry, inode })
    }
    return new SimFileHandle(path, mode, inode, this, this.generation)
  }

  async list(directory: string): Promise<string[]> {
    this.checkAlive()
    const normalized = normalize(directory)
    const entries = this.volatileTree.get(normalized)
    if (entries === undefined) throw fsError('ENOENT', `no directory ${directory}`)
    const names = [...entries.keys()]
    for (const other of this.volatileTree.keys()) {
      if (other !== normalized && posix.dirname(other) === normalized) {
        names.push(posix.basename(other))
      }
    }
    return names.sort()
  }

  /** Directories are durable at once: a simplification the log's recovery doesn't lean on. */
  async mkdir(directory: string): Promise<void> {
    this.checkAlive()
    const normalized = normalize(directory)
    if (this.volatileTree.has(normalized)) return
    const { directory: parent, name } = split(normalized)
    if (parent !== normalized) await this.mkdir(parent)
    if (this.volatileTree.get(parent)?.has(name) === true) {
      throw fsError('EEXIST', `${normalized} is a file`)
    }
    this.addDirectory(normalized)
  }

  async rename(from: string, to: string): Promise<void> {
    this.checkAlive()
    this.tick(`rename ${from} ${to}`)
    const source = split(from)
    const target = split(to)
    const inode = this.volatileTree.get(source.directory)?.get(source.name)
    if (inode === undefined) {
      const isDirectory = this.volatileTree.has(normalize(from))
      throw fsError(isDirectory ? 'ENOTSUP' : 'ENOENT', `can't rename ${from}`)
    }
    if (!this.volatileTree.has(target.directory)) throw fsError('ENOENT', `no parent of ${to}`)
    if (this.volatileTree.has(normalize(to))) throw fsError('EISDIR', `${to} is a directory`)
    if (normalize(from) === normalize(to)) return
    this.queue({ kind: 'rename', from: source, to: target, inode })
  }

  async unlink(path: string): Promise<void> {
    this.checkAlive()
    this.tick(`unlink ${path}`)
    if (this.volatileTree.has(normalize(path))) throw fsError('EISDIR', `${path} is a directory`)
    const entry = split(path)
    const inode = this.volatileTree.get(entry.directory)?.get(entry.name)
    if (inode !== undefined) this.queue({ kind: 'unlink', ...entry, inode })
  }

  async syncDirectory(directory: string): Promise<void> {
    this.checkAlive()
    this.tick(`syncDirectory ${directory}`)
    const normalized = normalize(directory)
    if (!this.volatileTree.has(normalized)) throw fsError('ENOENT', `no directory ${directory}`)
    const kept: DirectoryOp[] = []
    for (const op of this.pendingDirectoryOps) {
      if (touches(op, normalized)) applyDirectoryOp(this.durableTree, op)
      else kept.push(op)
    }
    this.pendingDirectoryOps = kept
  }

  async exists(path: string): Promise<boolean> {
    this.checkAlive()
    const normalized = normalize(path)
    const entry = split(normalized)
    return this.volatileTree.has(normalized) ||
      this.volatileTree.get(entry.directory)?.has(entry.name) === true
  }

  /** @internal Fails every operation once the simulated process has crashed. */
  checkAlive(): void {
    if (this.crashed) throw new SimulatedCrashError('an operation after the crash')
  }

  /** @internal Counts one mutating operation, or crashes instead of running it. */
  tick(operation: string): void {
    if (this.crashAt !== undefined && this.operations >= this.crashAt) {
      this.crashed = true
      throw new SimulatedCrashError(operation)
    }
    this.operations++
  }

  /** @internal Whether handles opened in `generation` still work. */
  isCurrent(generation: number): boolean {
    return generation === this.generation
  }

  private queue(op: DirectoryOp): void {
    if (this.pendingDirectoryOps.length >= this.limits.unsyncedDirectoryOpsMax) {
      throw fsError('ENOMEM', 'too many unsynced directory operations; call syncDirectory')
    }
    applyDirectoryOp(this.volatileTree, op)
    this.pendingDirectoryOps.push(op)
  }

  private addDirectory(directory: string): void {
    this.volatileTree.set(directory, new Map())
    this.durableTree.set(directory, new Map())
  }

  private lookupOrThrow(path: string): Inode {
    const entry = split(path)
    const inode = this.volatileTree.get(entry.directory)?.get(entry.name)
    if (inode === undefined) throw fsError('ENOENT', `no file ${path}`)
    return inode
  }
}

class SimFileHandle implements FileHandle {
  private closed = false

  constructor(
    readonly path: string,
    private readonly mode: OpenMode,
    private readonly inode: Inode,
    private readonly disk: SimDisk,
    private readonly generation: number,
  ) {}

  async write(data: Uint8Array, position: number): Promise<void> {
    this.writeBytes(Buffer.from(data), position, 'write')
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    // One pending write, so a torn failure can cut it anywhere, as with one pwritev(2).
    this.writeBytes(Buffer.concat(buffers), position, 'writev')
  }

  async read(target: Uint8Array, targetOffset: number, length: number, position: number):
  Promise<number> {
    this.checkUsable()
    const image = this.inode.volatile.view()
    const end = Math.min(image.length, position + length)
    if (end <= position) return 0
    target.set(image.subarray(position, end), targetOffset)
    return end - position
  }

  async datasync(): Promise<void> {
    this.checkUsable()
    this.disk.tick(`datasync ${this.path}`)
    this.inode.datasync()
  }

  async truncate(length: number): Promise<void> {
    this.checkUsable()
    this.disk.tick(`truncate ${this.path}`)
    this.checkWritable(length)
    this.inode.record({ kind: 'truncate', length })
  }

  async size(): Promise<number> {
    this.checkUsable()
    return this.inode.volatile.length
  }

  async close(): Promise<void> {
    this.disk.checkAlive()
    if (this.closed) return
    this.checkUsable()
    this.closed = true
  }

  private writeBytes(bytes: Buffer, position: number, operation: string): void {
    this.checkUsable()
    this.disk.tick(`${operation} ${this.path}`)
    if (!Number.isInteger(position) || position < 0) {
      throw new RangeError(`bad position ${position}`)
    }
    this.checkWritable(position + bytes.length)
    if (this.inode.pendingBytes + bytes.length > this.disk.limits.unsyncedBytesMax) {
      throw fsError('ENOMEM', `too many unsynced bytes in ${this.path}; call datasync`)
    }
    if (bytes.length > 0) this.inode.record({ kind: 'write', position, bytes })
  }

  private checkUsable(): void {
    this.disk.checkAlive()
    if (!this.disk.isCurrent(this.generation)) {
      throw fsError('EIO', `${this.path} was opened before a crash; open it again`)
    }
    if (this.closed) throw fsError('EBADF', `${this.path} is closed`)
  }

  private checkWritable(end: number): void {
    if (this.mode === 'read') throw fsError('EBADF', `${this.path} is open for reading only`)
    if (!Number.isInteger(end) || end < 0) throw new RangeError(`bad length or position ${end}`)
    if (end > this.disk.limits.fileBytesMax) {
      throw fsError('EFBIG', `${this.path} would exceed ${this.disk.limits.fileBytesMax} bytes`)
    }
  }
}
