/**
 * `weir topics list | create | delete | describe`: Kafka's kafka-topics.sh over Weir's admin
 * client. Tables for people; `--json` prints one JSON document:
 * - list → `{ topics: TopicMetadata[] }`
 * - create → `{ created: boolean, topic: TopicMetadata }` (false: --if-not-exists found it)
 * - delete → `{ deleted: string[] }`
 * - describe → TopicDescription (`partitionStates` with logStart/logEnd/highWatermark)
 *
 * `--config key=value` takes Weir's names (retentionMs) or Kafka's (retention.ms); flush is
 * always, never or an interval in ms.
 */
import type { TopicConfig, TopicMetadata } from '../../broker/topic-registry.ts'
import { WeirError } from '../../errors.ts'
import {
  type Command, EXIT_OK, parseInteger, UsageError, writeJson, writeOut,
} from '../command.ts'
import { connectionHelp, connectionOptions, withConnection } from '../connection.ts'
import { formatPairs, formatTable } from '../table.ts'

const json = { json: { type: 'boolean' } } as const

export const topicsList: Command = {
  name: 'topics list',
  summary: 'the topics, their partition counts and configs',
  help: `usage: weir topics list [--internal] [--json] [connection]

Lists the topics with their partition counts and the config they set.

  --internal    include internal topics (__consumer_offsets, __transaction_state)
  --json        print { "topics": [...] }

${connectionHelp}
`,
  options: { ...connectionOptions, ...json, internal: { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  run: args => withConnection(args, async ({ weir }) => {
    const topics = (await weir.admin().listTopics({ includeInternal: args.flag('internal') }))
      .sort((a, b) => a.name.localeCompare(b.name))
    if (args.flag('json')) await writeJson({ topics })
    else if (topics.length === 0) await writeOut('no topics\n')
    else {
      await writeOut(formatTable(['TOPIC', 'PARTITIONS', 'CONFIG'],
        topics.map(topic => [topic.name + (topic.internal ? ' (internal)' : ''),
          topic.partitions, formatPairs(topic.config)])))
    }
    return EXIT_OK
  }),
}

export const topicsCreate: Command = {
  name: 'topics create',
  summary: 'create a topic',
  help: `usage: weir topics create <topic> [--partitions N] [--config key=value]...
                         [--if-not-exists] [--json] [connection]

Creates a topic. Names: 1-249 of [a-zA-Z0-9._-].

  --partitions N       partition count (default 1)
  --config key=value   a topic config, repeatable: retentionMs, retentionBytes, cleanupPolicy
                       (delete | compact), flush (always | never | <interval ms>),
                       recordBytesMax, batchBytesMax, segmentBytesMax, segmentMs,
                       deleteRetentionMs; Kafka's names work too (retention.ms, cleanup.policy,
                       max.message.bytes, segment.bytes, ...)
  --if-not-exists      succeed when the topic exists already (else TOPIC_ALREADY_EXISTS, exit 1)
  --json               print { "created": true|false, "topic": {...} }

${connectionHelp}
`,
  options: { ...connectionOptions, ...json, 'partitions': { type: 'string', short: 'p' },
    'config': { type: 'string', multiple: true }, 'if-not-exists': { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  run: async args => {
    const topic = args.positional(0)
    const partitions = args.integer('partitions', { min: 1, max: 1_000_000 }, 1)
    const config = parseTopicConfig(args.strings('config'))
    return withConnection(args, async ({ weir }) => {
      const admin = weir.admin()
      let created = true
      let metadata: TopicMetadata
      try {
        [metadata] = await admin.createTopics([{ topic, partitions, config }]) as [TopicMetadata]
      } catch (error) {
        if (!args.flag('if-not-exists') || !WeirError.is(error, 'TOPIC_ALREADY_EXISTS')) {
          throw error
        }
        created = false
        metadata = (await admin.listTopics({ includeInternal: true }))
          .find(existing => existing.name === topic)!
      }
      if (args.flag('json')) await writeJson({ created, topic: metadata })
      else {
        await writeOut(`${created ? 'created' : 'exists:'} topic ${metadata.name} with `
          + `${metadata.partitions} partition${metadata.partitions === 1 ? '' : 's'}`
          + `${Object.keys(metadata.config).length === 0 ? ''
            : `, ${formatPairs(metadata.config)}`}\n`)
      }
      return EXIT_OK
    })
  },
}

export const topicsDelete: Command = {
  name: 'topics delete',
  summary: 'delete topics and their records',
  help: `usage: weir topics delete <topic>... [--json] [connection]

Deletes the topics and their records (UNKNOWN_TOPIC, exit 1, if one does not exist: then none
is deleted).

  --json    print { "deleted": [...] }

${connectionHelp}
`,
  options: { ...connectionOptions, ...json },
  positionals: { min: 1, max: 100 },
  run: args => withConnection(args, async ({ weir }) => {
    const topics = [...args.positionals]
    const existing = new Set((await weir.admin().listTopics()).map(topic => topic.name))
    const missing = topics.filter(topic => !existing.has(topic))
    if (missing.length > 0) {
      throw new WeirError('UNKNOWN_TOPIC', `No topic ${missing.join(', ')}; nothing was deleted.`)
    }
    await weir.admin().deleteTopics(topics)
    if (args.flag('json')) await writeJson({ deleted: topics })
    else await writeOut(topics.map(topic => `deleted topic ${topic}\n`).join(''))
    return EXIT_OK
  }),
}

export const topicsDescribe: Command = {
  name: 'topics describe',
  summary: 'a topic\'s config and partitions (log start, high watermark, log end)',
  help: `usage: weir topics describe <topic> [--json] [connection]

Shows a topic's id, config and, per partition, the log start offset, the high watermark and the
log end offset.

  --json    print the description: { name, topicId, partitions, config, internal,
            partitionStates: [{ partition, logStartOffset, logEndOffset, highWatermark }] }

${connectionHelp}
`,
  options: { ...connectionOptions, ...json },
  positionals: { min: 1, max: 1 },
  run: args => withConnection(args, async ({ weir }) => {
    const [description] = await weir.admin().describeTopics([args.positional(0)])
    if (description === undefined) {
      throw new WeirError('UNKNOWN_TOPIC', `No topic ${args.positional(0)}.`)
    }
    if (args.flag('json')) {
      await writeJson(description)
      return EXIT_OK
    }
    await writeOut(`topic ${description.name}  id ${description.topicId}  partitions `
      + `${description.partitions}${description.internal ? '  internal' : ''}\n`
      + `config ${formatPairs(description.config)}\n\n`
      + formatTable(['PARTITION', 'LOG-START', 'HIGH-WATERMARK', 'LOG-END'],
        description.partitionStates.map(state => [state.partition, state.logStartOffset,
          state.highWatermark, state.logEndOffset])))
    return EXIT_OK
  }),
}

const kafkaNames: Readonly<Record<string, keyof TopicConfig>> = {
  'retention.ms': 'retentionMs',
  'retention.bytes': 'retentionBytes',
  'cleanup.policy': 'cleanupPolicy',
  'max.message.bytes': 'recordBytesMax',
  'segment.bytes': 'segmentBytesMax',
  'segment.ms': 'segmentMs',
  'delete.retention.ms': 'deleteRetentionMs',
}

const integerKeys = new Set<keyof TopicConfig>(['retentionMs', 'retentionBytes',
  'recordBytesMax', 'batchBytesMax', 'segmentBytesMax', 'segmentMs', 'deleteRetentionMs'])

/** `key=value` pairs → a TopicConfig; an unknown key or bad value is a usage error. */
export function parseTopicConfig(pairs: readonly string[]): TopicConfig {
  const config: Record<string, unknown> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new UsageError(`--config takes key=value (got '${pair}')`)
    const given = pair.slice(0, at)
    const text = pair.slice(at + 1)
    const key = kafkaNames[given] ?? given as keyof TopicConfig
    if (integerKeys.has(key)) {
      config[key] = parseInteger(text, `--config ${given}`, { min: -1 })
    } else if (key === 'cleanupPolicy') {
      if (text !== 'delete' && text !== 'compact') {
        throw new UsageError(`--config ${given} is delete or compact (got '${text}')`)
      }
      config[key] = text
    } else if (key === 'flush') {
      config[key] = text === 'always' || text === 'never' ? text
        : { intervalMs: parseInteger(text, '--config flush (always, never or ms)', { min: 1 }) }
    } else {
      throw new UsageError(`unknown topic config '${given}'; see weir topics create --help`)
    }
  }
  return config as TopicConfig
}
