/**
 * A state store as a task's operators use it (Kafka Streams' CachingStore over its
 * ChangeLoggingStore): typed keys and values through the store's serdes, writes kept as values in
 * a dirty map until the task commits — so a key updated by every record of a commit interval is
 * serialized and logged once — then handed to the KeyValueStore's buffer and, as changelog
 * records (the last value of each key; null = delete), to the commit's transaction.
 */
import type { StoreSpec } from '../operator-info.ts'
import type { KeyValueStore } from '../../state/key-value-store.ts'

interface DirtyEntry {
  readonly key: unknown
  readonly keyBytes: Buffer
  value: unknown
}

/** A write to log: its key and value bytes, null for a delete. */
export interface ChangelogWrite {
  readonly key: Buffer
  readonly value: Buffer | null
}

export class TaskStore {
  private readonly dirty = new Map<string, DirtyEntry>()

  constructor(
    readonly spec: StoreSpec,
    readonly changelogTopic: string,
    readonly kv: KeyValueStore,
  ) {}

  get name(): string {
    return this.spec.name
  }

  /** The value of `key`, seeing this interval's writes; undefined when absent. */
  get(key: unknown): unknown {
    const keyBytes = this.spec.keySerde.serialize(key)
    const entry = this.dirty.get(keyBytes.toString('latin1'))
    if (entry !== undefined) return entry.value
    const stored = this.kv.get(keyBytes)
    return stored === undefined ? undefined : this.spec.valueSerde.deserialize(stored)
  }

  put(key: unknown, value: unknown): void {
    this.write(key, value)
  }

  delete(key: unknown): void {
    this.write(key, undefined)
  }

  private write(key: unknown, value: unknown): void {
    const keyBytes = this.spec.keySerde.serialize(key)
    const id = keyBytes.toString('latin1')
    const entry = this.dirty.get(id)
    if (entry === undefined) this.dirty.set(id, { key, keyBytes, value })
    else entry.value = value
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
    for (const entry of this.dirty.values()) {
      if (entry.value === undefined) {
        this.kv.delete(entry.keyBytes)
        writes.push({ key: entry.keyBytes, value: null })
      } else {
        const value = this.spec.valueSerde.serialize(entry.value)
        this.kv.put(entry.keyBytes, value)
        writes.push({ key: entry.keyBytes, value })
      }
    }
    this.dirty.clear()
    return writes
  }

  /** Forgets uncommitted writes (their transaction aborted or never ran). */
  discard(): void {
    this.dirty.clear()
    this.kv.discard()
  }
}
