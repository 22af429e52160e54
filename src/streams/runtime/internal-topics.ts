/**
 * Before an app starts: checks its input and output topics exist and that each sub-topology's
 * sources are co-partitioned, then creates its internal topics (Kafka Streams'
 * InternalTopicManager): repartition topics with as many partitions as the sub-topology that
 * writes them has tasks (Kafka's rule: the max of its sources'), changelog topics, compacted,
 * with one partition per task of the store's sub-topology. An internal topic that already exists
 * must have the count it would be created with.
 */
import { WeirError } from '../../errors.ts'
import type { Admin } from '../../client/admin.ts'
import { changelogTopic, type SubTopology } from '../sub-topologies.ts'

/** Tasks (partitions) per sub-topology id. */
export async function prepareTopics(appId: string, subs: readonly SubTopology[], admin: Admin):
Promise<Map<number, number>> {
  const existing = new Map((await admin.listTopics({ includeInternal: true }))
    .map(topic => [topic.name, topic.partitions]))
  const repartitionTopics = new Set(subs.flatMap(sub => sub.repartitionSinks))
  const required = new Set([...subs.flatMap(sub => sub.sources.map(source => source.topic)),
    ...subs.flatMap(sub => sub.sinks)].filter(topic => !repartitionTopics.has(topic)))
  for (const topic of required) {
    if (!existing.has(topic)) {
      throw new WeirError('UNKNOWN_TOPIC', `Topic ${topic}, read or written by app ${appId}, `
        + 'does not exist; create it (admin.createTopics) before starting the app.')
    }
  }
  const tasks = new Map<number, number>()
  const pending = [...subs]
  while (pending.length > 0) {
    const ready = pending.findIndex(sub => sub.sources.every(source =>
      !repartitionTopics.has(source.topic) || existing.has(source.topic)))
    if (ready === -1) {
      throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `App ${appId} has a cycle of `
        + 'repartition topics; a topology must be acyclic.')
    }
    const [sub] = pending.splice(ready, 1)
    const count = checkCoPartitioned(appId, sub!, existing)
    tasks.set(sub!.id, count)
    for (const topic of sub!.repartitionSinks) {
      await ensureTopic(admin, existing, topic, count, 'delete')
    }
    for (const store of sub!.stores) {
      await ensureTopic(admin, existing, changelogTopic(appId, store.name), count, 'compact')
    }
  }
  return tasks
}

function checkCoPartitioned(appId: string, sub: SubTopology, existing: Map<string, number>):
number {
  const counts = sub.sources.map(source => ({ topic: source.topic,
    partitions: existing.get(source.topic)! }))
  if (new Set(counts.map(entry => entry.partitions)).size > 1) {
    throw new WeirError('WEIR_ERR_STREAMS_COPARTITION', `The sources of app ${appId}'s `
      + `sub-topology ${sub.id} share tasks but differ in partitions (`
      + `${counts.map(entry => `${entry.topic}: ${entry.partitions}`).join(', ')}); give them the `
      + 'same number of partitions.')
  }
  return counts[0]!.partitions
}

async function ensureTopic(admin: Admin, existing: Map<string, number>, topic: string,
  partitions: number, cleanupPolicy: 'delete' | 'compact'): Promise<void> {
  const found = existing.get(topic)
  if (found === undefined) {
    try {
      await admin.createTopics([{ topic, partitions, config: { cleanupPolicy } }])
    } catch (error) {
      // Another instance of the app created it first.
      if (!WeirError.is(error, 'TOPIC_ALREADY_EXISTS')) throw error
    }
    existing.set(topic, partitions)
    return
  }
  if (found !== partitions) {
    throw new WeirError('WEIR_ERR_STREAMS_COPARTITION', `Internal topic ${topic} has ${found} `
      + `partitions but the app needs ${partitions}; delete it (its data is derived) and start `
      + 'again.')
  }
}
