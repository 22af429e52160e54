/**
 * Durable topic metadata of a broker: every topic's id, partition count, config and whether it
 * is internal, plus the end of the producer-id block handed out so far. One JSON file,
 * `<dir>/metadata.json`, replaced atomically (util/atomic-file.ts) before a change takes effect:
 * a topic exists once its metadata is durable, and is gone once its removal is.
 *
 * Names follow Kafka's rules (Topic.validate): 1–249 characters of [a-zA-Z0-9._-], not '.' or
 * '..'. Names starting with '__' are reserved for internal topics.
 */
import { join } from 'node:path'
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import { readWholeFile, writeFileAtomically } from '../util/atomic-file.ts'
import { crc32c } from '../util/crc32c.ts'
import type { FileSystem } from '../util/file-system.ts'
import type { LogConfig } from '../log/log-config.ts'

/** Per-topic settings (Kafka topic configs in camelCase; `recordBytesMax` = max.message.bytes). */
export type TopicConfig = Partial<Pick<LogConfig, 'retentionMs' | 'retentionBytes'
  | 'cleanupPolicy' | 'flush' | 'recordBytesMax' | 'batchBytesMax' | 'segmentBytesMax'
  | 'segmentMs' | 'deleteRetentionMs'>>

export interface TopicMetadata {
  readonly name: string
  /** Distinguishes a topic from an earlier one of the same name (partition directories use it). */
  readonly topicId: string
  readonly partitions: number
  readonly config: TopicConfig
  readonly internal: boolean
}

interface MetadataFile {
  readonly version: 1
  readonly crc: number
  readonly body: { topics: TopicMetadata[], producerIdBlockEnd: number }
}

export const METADATA_FILE = 'metadata.json'
const TOPIC_NAME_BYTES_MAX = 249

export function validateTopicName(name: string, internal: boolean): void {
  // Requests may come decoded from JSON or protobuf: check the type, not just the text.
  const legal = typeof name === 'string' && name.length > 0 && name.length <= TOPIC_NAME_BYTES_MAX
    && /^[a-zA-Z0-9._-]+$/.test(name) && name !== '.' && name !== '..'
  if (!legal) {
    throw new WeirError('INVALID_TOPIC_EXCEPTION', `Topic name '${name}' is not allowed: use `
      + `1–${TOPIC_NAME_BYTES_MAX} characters from [a-zA-Z0-9._-], not '.' or '..'.`)
  }
  if (!internal && name.startsWith('__')) {
    throw new WeirError('INVALID_TOPIC_EXCEPTION', `Topic name '${name}' starts with '__', `
      + 'which is reserved for internal topics; choose another name.')
  }
}

function parseMetadata(bytes: Buffer): MetadataFile | undefined {
  let file: MetadataFile
  try {
    file = JSON.parse(bytes.toString('utf8')) as MetadataFile
  } catch {
    return undefined
  }
  if (typeof file !== 'object' || file === null || file.version !== 1
    || typeof file.body !== 'object' || file.body === null) return undefined
  return crc32c(Buffer.from(JSON.stringify(file.body))) === file.crc ? file : undefined
}

export class TopicRegistry {
  private readonly topics = new Map<string, TopicMetadata>()
  private producerIdBlockEnd: number

  private constructor(
    private readonly fs: FileSystem,
    private readonly directory: string,
    body: MetadataFile['body'],
  ) {
    for (const topic of body.topics) this.topics.set(topic.name, topic)
    this.producerIdBlockEnd = body.producerIdBlockEnd
  }

  static async open(fs: FileSystem, directory: string): Promise<TopicRegistry> {
    await fs.mkdir(directory)
    const bytes = await readWholeFile(fs, join(directory, METADATA_FILE))
    if (bytes === undefined) {
      return new TopicRegistry(fs, directory, { topics: [], producerIdBlockEnd: 0 })
    }
    const file = parseMetadata(bytes)
    if (file === undefined) {
      throw new WeirError('WEIR_ERR_LOG_CORRUPT', `${join(directory, METADATA_FILE)} is damaged `
        + '(not the JSON Weir wrote, or it fails its checksum); restore it from a backup.')
    }
    return new TopicRegistry(fs, directory, file.body)
  }

  get(name: string): TopicMetadata | undefined {
    return this.topics.get(name)
  }

  list(): TopicMetadata[] {
    return [...this.topics.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  /** Last producer id of the block already reserved durably (ids below it may have been used). */
  get reservedProducerIdEnd(): number {
    return this.producerIdBlockEnd
  }

  /**
   * Stores a topic's metadata durably, then publishes it; `onDurable` runs in the same turn as
   * the publication, so the caller can make its partitions usable exactly when the topic appears.
   */
  async put(topic: TopicMetadata, onDurable: () => void = () => undefined): Promise<void> {
    assert(topic.partitions >= 1, 'a topic has at least one partition')
    const next = new Map(this.topics).set(topic.name, topic)
    await this.persist([...next.values()], this.producerIdBlockEnd)
    onDurable()
    this.topics.set(topic.name, topic)
  }

  async remove(name: string): Promise<void> {
    const next = new Map(this.topics)
    next.delete(name)
    await this.persist([...next.values()], this.producerIdBlockEnd)
    this.topics.delete(name)
  }

  /** Durably reserves producer ids up to `end` (exclusive) before any of them is handed out. */
  async reserveProducerIds(end: number): Promise<void> {
    assert(end > this.producerIdBlockEnd, 'producer id blocks only grow')
    await this.persist([...this.topics.values()], end)
    this.producerIdBlockEnd = end
  }

  private async persist(topics: TopicMetadata[], producerIdBlockEnd: number): Promise<void> {
    const body = { topics, producerIdBlockEnd }
    const file: MetadataFile = { version: 1, crc: crc32c(Buffer.from(JSON.stringify(body))), body }
    await writeFileAtomically(this.fs, join(this.directory, METADATA_FILE),
      Buffer.from(JSON.stringify(file)))
  }
}
