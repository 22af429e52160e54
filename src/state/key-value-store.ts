/**
 * A task's key-value state store on classic-level (LevelDB), with Kafka Streams' exactly-once
 * discipline done the KIP-892 way: writes are buffered in memory until the transaction that
 * carries their changelog records commits, then applied to LevelDB in one atomic batch together
 * with the changelog offset they reach (the checkpoint). So the database always holds the state
 * as of its checkpoint — never a write of an aborted or undecided transaction — and a crash at
 * any point leaves data and checkpoint that agree; restore (restore.ts) replays the changelog
 * from the checkpoint. No wipe after an unclean shutdown is needed.
 *
 * Reads (`get`) see the buffered writes first, then the database through `getSync` (an async
 * `get` per record would cap a topology near 30k records/s; DESIGN.md). Range and prefix
 * queries (`entries`) read the committed state only, as interactive queries should.
 *
 * Layout in the database: data keys are 0x01 + key, metadata keys 0x00 + name (the checkpoint).
 * LevelDB writes go to its log without fsync: a crash may lose the last batches, and with them
 * their checkpoint, so the store falls back to an older, consistent state.
 */
import { ClassicLevel } from 'classic-level'
import { WeirError } from '../errors.ts'

const DATA = 0x01
const META = 0x00
const CHECKPOINT_KEY = Buffer.concat([Buffer.from([META]), Buffer.from('changelog-offset')])
const DATA_START = Buffer.from([DATA])
const DATA_END = Buffer.from([DATA + 1])

export interface StoreEntry {
  readonly key: Buffer
  readonly value: Buffer
}

export interface RangeQuery {
  /** Inclusive lower bound. */
  readonly from?: Buffer
  /** Exclusive upper bound. */
  readonly to?: Buffer
  /** Only keys starting with these bytes (combined with the bounds). */
  readonly prefix?: Buffer
  readonly limit?: number
}

type Database = ClassicLevel<Buffer, Buffer>

function dataKey(key: Buffer): Buffer {
  const prefixed = Buffer.allocUnsafe(key.length + 1)
  prefixed[0] = DATA
  key.copy(prefixed, 1)
  return prefixed
}

export class KeyValueStore {
  /** Buffered writes since the last commit; null = delete. Insertion order = write order. */
  private readonly pending = new Map<string, { key: Buffer, value: Buffer | null }>()
  private checkpointOffset: number | undefined
  private closed = false

  private constructor(
    readonly name: string,
    readonly directory: string,
    private readonly db: Database,
    checkpoint: number | undefined,
  ) {
    this.checkpointOffset = checkpoint
  }

  /** Opens (or creates) the store's database in `directory`. */
  static async open(options: { name: string, directory: string }): Promise<KeyValueStore> {
    const db: Database = new ClassicLevel(options.directory,
      { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    try {
      await db.open()
    } catch (error) {
      throw new WeirError('WEIR_ERR_STORE_IO', `State store ${options.name} could not open `
        + `${options.directory}; delete the directory to restore it from its changelog.`,
        { cause: error })
    }
    const stored = db.getSync(CHECKPOINT_KEY)
    const checkpoint = stored === undefined ? undefined : readCheckpoint(stored, options.name)
    return new KeyValueStore(options.name, options.directory, db, checkpoint)
  }

  /**
   * The changelog offset the committed state reaches (restore continues from there), or
   * undefined for a store that never committed.
   */
  get checkpoint(): number | undefined {
    return this.checkpointOffset
  }

  /** Writes buffered since the last commit or discard. */
  get pendingCount(): number {
    return this.pending.size
  }

  get(key: Buffer): Buffer | undefined {
    this.checkOpen()
    const buffered = this.pending.get(key.toString('latin1'))
    if (buffered !== undefined) return buffered.value ?? undefined
    return this.db.getSync(dataKey(key))
  }

  /** The committed value of `key` (what interactive queries read), ignoring buffered writes. */
  getCommitted(key: Buffer): Buffer | undefined {
    this.checkOpen()
    return this.db.getSync(dataKey(key))
  }

  put(key: Buffer, value: Buffer): void {
    this.checkOpen()
    this.pending.set(key.toString('latin1'), { key, value })
  }

  delete(key: Buffer): void {
    this.checkOpen()
    this.pending.set(key.toString('latin1'), { key, value: null })
  }

  /** The buffered writes, last per key, in the order their keys were first written. */
  pendingWrites(): Array<{ key: Buffer, value: Buffer | null }> {
    return [...this.pending.values()]
  }

  /**
   * Applies the buffered writes and the checkpoint in one atomic batch (call once the
   * transaction holding their changelog records has committed).
   */
  async commit(changelogOffset: number): Promise<void> {
    await this.apply(this.pendingWrites(), changelogOffset)
    this.pending.clear()
  }

  /** Drops the buffered writes (their transaction aborted). */
  discard(): void {
    this.pending.clear()
  }

  /**
   * Writes `writes` and the checkpoint atomically, bypassing the buffer (restore's path).
   * @throws WEIR_ERR_STORE_IO
   */
  async apply(writes: Iterable<{ key: Buffer, value: Buffer | null }>, changelogOffset: number):
  Promise<void> {
    this.checkOpen()
    if (!Number.isSafeInteger(changelogOffset) || changelogOffset < 0) {
      throw new WeirError('INVALID_REQUEST', `A checkpoint must be an offset ≥ 0, got `
        + `${changelogOffset}.`)
    }
    const batch = this.db.batch()
    for (const write of writes) {
      if (write.value === null) batch.del(dataKey(write.key))
      else batch.put(dataKey(write.key), write.value)
    }
    const checkpoint = Buffer.alloc(8)
    checkpoint.writeBigInt64BE(BigInt(changelogOffset))
    batch.put(CHECKPOINT_KEY, checkpoint)
    try {
      await batch.write()
    } catch (error) {
      throw new WeirError('WEIR_ERR_STORE_IO', `State store ${this.name} failed to write `
        + `${this.directory}; reopen it (it restores from its changelog).`, { cause: error })
    }
    this.checkpointOffset = changelogOffset
  }

  /** Committed entries in key order (buffered writes are not visible here). */
  async entries(query: RangeQuery = {}): Promise<StoreEntry[]> {
    this.checkOpen()
    const prefix = query.prefix === undefined ? DATA_START : dataKey(query.prefix)
    const lower = maxBuffer(prefix, query.from === undefined ? prefix : dataKey(query.from))
    const upper = minBuffer(prefixEnd(prefix) ?? DATA_END,
      query.to === undefined ? DATA_END : dataKey(query.to))
    const found: StoreEntry[] = []
    const iterator = this.db.iterator({ gte: lower, lt: upper, limit: query.limit ?? -1 })
    try {
      for await (const [key, value] of iterator) found.push({ key: key.subarray(1), value })
    } finally {
      await iterator.close()
    }
    return found
  }

  /** Deletes every entry and the checkpoint (before a restore from the beginning). */
  async clear(): Promise<void> {
    this.checkOpen()
    this.pending.clear()
    await this.db.clear()
    this.checkpointOffset = undefined
  }

  /** Closed: its task was closed or moved (a read that fails now should look again). */
  get isClosed(): boolean {
    return this.closed
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.db.close()
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new WeirError('WEIR_ERR_CLIENT_CLOSED', `State store ${this.name} is closed.`)
    }
  }
}

function readCheckpoint(stored: Buffer, name: string): number {
  const offset = stored.length === 8 ? Number(stored.readBigInt64BE(0)) : -1
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new WeirError('WEIR_ERR_STORE_IO', `State store ${name} holds a damaged checkpoint; `
      + 'delete its directory to restore it from the changelog.')
  }
  return offset
}

/** The smallest key greater than every key starting with `prefix` (undefined: no such key). */
function prefixEnd(prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1
      return end.subarray(0, i + 1)
    }
  }
  return undefined
}

const maxBuffer = (a: Buffer, b: Buffer): Buffer => Buffer.compare(a, b) >= 0 ? a : b
const minBuffer = (a: Buffer, b: Buffer): Buffer => Buffer.compare(a, b) <= 0 ? a : b
