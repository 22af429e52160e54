/**
 * A state store as a task's operators use it (Kafka Streams' CachingStore over its
 * ChangeLoggingStore): typed keys and values through the store's serdes, and a cache of
 * deserialized values in front of classic-level.
 *
 * Writes stay in the cache, marked dirty, until the task commits — so a key updated by every
 * record of a commit interval is serialized and logged once — and are then handed to the
 * KeyValueStore's buffer and, as changelog records (the last value of each key; null = delete),
 * to the commit's transaction. Clean entries stay cached (up to `cacheEntriesMax`, oldest
 * evicted first), so a hot key is not read back from LevelDB and parsed after every commit.
 * Anything cached after a flush is dropped when the commit fails (`discard`).
 *
 * An indexed store (`spec.indexed`, or one with `spec.expiry`) also keeps the ids of its keys in
 * memory — LevelDB has no synchronous iteration — loaded when the task opens (`loadIndex`). The
 * index may hold keys that are absent (a put undone by a discard): readers check with `get`. It
 * never misses a present key: a delete is remembered until its commit, and a discard puts its
 * keys back. Expiry sweeps it as stream time passes, deleting what no record can reach.
 */
import { assert } from '../../util/assert.ts'
import type { StoreSpec } from '../operator-info.ts'
import type { KeyValueStore } from '../../state/key-value-store.ts'

interface CacheEntry {
  readonly key: unknown
  readonly keyBytes: Buffer
  /** undefined = absent (deleted, or not in the store). */
  value: unknown
  dirty: boolean
}

/** A write to log: its key and value bytes, null for a delete. */
export interface ChangelogWrite {
  readonly key: Buffer
  readonly value: Buffer | null
}

const NO_KEY = Symbol('no key')

export class TaskStore {
  private readonly cache = new Map<string, CacheEntry>()
  private readonly dirty = new Set<CacheEntry>()
  /** The last key looked up and its bytes: an update reads then writes the same key. */
  private lastKey: unknown = NO_KEY
  private lastId = ''
  private lastBytes: Buffer = Buffer.alloc(0)
  /** Ids (latin1 key bytes) of keys that may be present, when indexed. */
  private readonly index: Map<string, Buffer> | undefined
  /** Keys deleted since the last commit: a discard makes them present again. */
  private readonly deletedSinceCommit = new Map<string, Buffer>()
  private nextSweepMs = -1

  constructor(
    readonly spec: StoreSpec,
    readonly changelogTopic: string,
    readonly kv: KeyValueStore,
    private readonly cacheEntriesMax: number,
  ) {
    assert(Number.isSafeInteger(cacheEntriesMax) && cacheEntriesMax >= 0,
      'cacheEntriesMax is a count')
    this.index = spec.indexed === true || spec.expiry !== undefined ? new Map() : undefined
  }

  /** Reads the committed keys into the index (after restore, before processing). */
  async loadIndex(): Promise<void> {
    if (this.index === undefined) return
    for (const { key } of await this.kv.entries()) this.index.set(key.toString('latin1'), key)
  }

  /** Every key present (this interval's writes included), in no particular order. */
  keys(): unknown[] {
    assert(this.index !== undefined, `store ${this.name} is indexed`)
    const keys: unknown[] = []
    for (const [id, bytes] of this.index) {
      const key = this.spec.keySerde.deserialize(bytes)
      if (this.get(key) === undefined) this.index.delete(id)
      else keys.push(key)
    }
    return keys
  }

  /**
   * Deletes the entries expired at `streamTimeMs` (spec.expiry), at most once per sweep
   * interval of stream time: a sweep reads every key.
   */
  sweep(streamTimeMs: number): void {
    const expiry = this.spec.expiry
    if (expiry === undefined || streamTimeMs < this.nextSweepMs) return
    this.nextSweepMs = streamTimeMs + expiry.sweepIntervalMs
    for (const key of this.keys()) {
      if (expiry.expiresAtMs(key, this.get(key)) <= streamTimeMs) this.delete(key)
    }
  }

  /** The last commit succeeded: its deletes are final. */
  committed(): void {
    this.deletedSinceCommit.clear()
  }

  get name(): string {
    return this.spec.name
  }

  private entry(key: unknown): CacheEntry | { id: string, keyBytes: Buffer } {
    if (key !== this.lastKey || typeof key === 'object') {
      this.lastBytes = this.spec.keySerde.serialize(key)
      this.lastId = this.lastBytes.toString('latin1')
      this.lastKey = key
    }
    return this.cache.get(this.lastId) ?? { id: this.lastId, keyBytes: this.lastBytes }
  }

  /** The value of `key`, seeing this interval's writes; undefined when absent. */
  get(key: unknown): unknown {
    const found = this.entry(key)
    if ('dirty' in found) return found.value
    const stored = this.kv.get(found.keyBytes)
    const value = stored === undefined ? undefined : this.spec.valueSerde.deserialize(stored)
    if (this.cacheEntriesMax > 0) {
      this.cache.set(found.id, { key, keyBytes: found.keyBytes, value, dirty: false })
    }
    return value
  }

  put(key: unknown, value: unknown): void {
    assert(value !== undefined, 'put of undefined: use delete')
    this.write(key, value)
  }

  delete(key: unknown): void {
    this.write(key, undefined)
  }

  private write(key: unknown, value: unknown): void {
    const found = this.entry(key)
    if (this.index !== undefined) this.indexWrite(this.lastId, found.keyBytes, value !== undefined)
    if ('dirty' in found) {
      found.value = value
      found.dirty = true
      this.dirty.add(found)
      return
    }
    const entry: CacheEntry = { key, keyBytes: found.keyBytes, value, dirty: true }
    this.cache.set(found.id, entry)
    this.dirty.add(entry)
  }

  /** @param id the key's id (entry() just computed it) */
  private indexWrite(id: string, keyBytes: Buffer, present: boolean): void {
    if (present) {
      this.index!.set(id, keyBytes)
    } else if (this.index!.delete(id)) {
      this.deletedSinceCommit.set(id, keyBytes)
    }
  }

  get dirtyCount(): number {
    return this.dirty.size
  }

  /**
   * Moves this interval's writes into the KeyValueStore's buffer (applied by its commit) and
   * returns them as changelog writes.
   */
  flush(): ChangelogWrite[] {
    const writes: ChangelogWrite[] = []
    for (const entry of this.dirty) {
      if (entry.value === undefined) {
        this.kv.delete(entry.keyBytes)
        writes.push({ key: entry.keyBytes, value: null })
      } else {
        const value = this.spec.valueSerde.serialize(entry.value)
        this.kv.put(entry.keyBytes, value)
        writes.push({ key: entry.keyBytes, value })
      }
      entry.dirty = false
    }
    this.dirty.clear()
    this.evict()
    return writes
  }

  /** Drops the oldest clean entries beyond the bound (dirty ones are all clean after flush). */
  private evict(): void {
    let excess = this.cache.size - this.cacheEntriesMax
    if (excess <= 0) return
    for (const [id, entry] of this.cache) {
      if (excess <= 0) break
      if (entry.dirty) continue
      this.cache.delete(id)
      excess--
    }
    this.lastKey = NO_KEY
  }

  /** Forgets everything not committed: dirty writes, and the cache that may hold them. */
  discard(): void {
    this.cache.clear()
    this.dirty.clear()
    this.lastKey = NO_KEY
    this.kv.discard()
    for (const [id, bytes] of this.deletedSinceCommit) this.index?.set(id, bytes)
    this.deletedSinceCommit.clear()
    this.nextSweepMs = -1
  }
}
