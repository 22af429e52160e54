/**
 * Kafka topic configs (CreateTopics `configs`) → Weir's TopicConfig. The names Weir can honour
 * map to its camelCase options (the same table as `weir topics create --config`); any other name
 * is refused with INVALID_CONFIG rather than silently ignored, so a client never believes a
 * setting took effect when it did not. Values are checked here for their form (an integer,
 * `delete` or `compact`) and by the log's own validation (resolveLogConfig) for their range.
 */
import type { TopicConfig } from '../../broker/topic-registry.ts'
import { WeirError } from '../../errors.ts'

type IntegerOption = 'retentionMs' | 'retentionBytes' | 'recordBytesMax' | 'segmentBytesMax'
  | 'segmentMs' | 'deleteRetentionMs'

const integerOptions: Readonly<Record<string, IntegerOption>> = {
  'retention.ms': 'retentionMs',
  'retention.bytes': 'retentionBytes',
  'max.message.bytes': 'recordBytesMax',
  'segment.bytes': 'segmentBytesMax',
  'segment.ms': 'segmentMs',
  'delete.retention.ms': 'deleteRetentionMs',
}

const CLEANUP_POLICY = 'cleanup.policy'

/** The names accepted, for error messages. */
export const supportedTopicConfigs = [...Object.keys(integerOptions), CLEANUP_POLICY]

function invalidConfig(message: string): WeirError {
  return new WeirError('INVALID_CONFIG', `${message} Weir supports `
    + `${supportedTopicConfigs.join(', ')}.`)
}

/**
 * @throws INVALID_CONFIG for an unknown name, a null or malformed value, or a name given twice
 */
export function topicConfigFromKafka(configs: ReadonlyArray<{ name: string,
  value: string | null }>): TopicConfig {
  const config: { -readonly [K in keyof TopicConfig]: TopicConfig[K] } = {}
  const seen = new Set<string>()
  for (const { name, value } of configs) {
    if (seen.has(name)) throw invalidConfig(`Topic config ${name} is given twice.`)
    seen.add(name)
    if (value === null) throw invalidConfig(`Topic config ${name} has a null value.`)
    const option = integerOptions[name]
    if (option !== undefined) {
      if (!/^-?\d{1,16}$/.test(value)) {
        throw invalidConfig(`Topic config ${name}=${value} is not an integer.`)
      }
      config[option] = Number(value)
    } else if (name === CLEANUP_POLICY) {
      if (value !== 'delete' && value !== 'compact') {
        throw invalidConfig(`Topic config ${name}=${value} must be delete or compact (Weir `
          + 'does not combine them).')
      }
      config.cleanupPolicy = value
    } else {
      throw invalidConfig(`Unknown topic config ${name}.`)
    }
  }
  return config
}

/**
 * Weir's TopicConfig → Kafka topic configs, for creating a topic on a Kafka cluster (the Kafka
 * transport). The inverse of `topicConfigFromKafka` on the names both know.
 * @throws INVALID_CONFIG for an option Kafka has no topic config for (`flush`, `batchBytesMax`)
 */
export function topicConfigToKafka(config: TopicConfig): Array<{ name: string, value: string }> {
  const configs: Array<{ name: string, value: string }> = []
  for (const [name, option] of Object.entries(integerOptions)) {
    const value = config[option]
    if (value !== undefined) configs.push({ name, value: String(value) })
  }
  if (config.cleanupPolicy !== undefined) {
    configs.push({ name: CLEANUP_POLICY, value: config.cleanupPolicy })
  }
  const unmapped = (['flush', 'batchBytesMax'] as const).filter(key => config[key] !== undefined)
  if (unmapped.length > 0) {
    throw new WeirError('INVALID_CONFIG', `Topic option ${unmapped.join(', ')} has no Kafka `
      + `topic config; leave it out when creating topics on a Kafka cluster (Kafka topic `
      + `configs Weir maps: ${supportedTopicConfigs.join(', ')}).`)
  }
  return configs
}
