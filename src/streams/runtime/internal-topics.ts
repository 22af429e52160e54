/**
 * Before an app starts: checks its input and output topics exist and that each sub-topology's
 * external sources are co-partitioned, then creates its internal topics (Kafka Streams'
 * InternalTopicManager and RepartitionTopics).
 *
 * Task counts follow Kafka's rule. A sub-topology that reads external (non-repartition) topics
 * runs one task per partition of them (they must have equal counts). One that reads only
 * repartition topics takes the max task count of the sub-topologies writing them, computed as a
 * least fixed point, so a cycle between sub-topologies (a foreign-key join: the left side writes
 * subscriptions the right side reads, which writes responses the left side reads) is fine as
 * long as each sub-topology on it reads an external topic. A repartition topic then has as many
 * partitions as its READER has tasks — a repartition topic read together with a table is
 * co-partitioned with it by construction. Changelog topics, compacted, have one partition per
 * task of their store's sub-topology. An internal topic that already exists must have the count
 * it would be created with.
 */
import { WeirError } from '../../errors.ts'
import type { Admin } from '../../client/admin.ts'
import { assert } from '../../util/assert.ts'
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
  const tasks = taskCounts(appId, subs, repartitionTopics, existing)
  const readerOf = new Map(subs.flatMap(sub => sub.sources.map(source =>
    [source.topic, sub.id] as const)))
  for (const sub of subs) {
    for (const topic of sub.repartitionSinks) {
      const reader = readerOf.get(topic)
      assert(reader !== undefined, 'every repartition topic is read by a sub-topology')
      await ensureTopic(admin, existing, topic, tasks.get(reader)!, 'delete')
    }
    for (const store of sub.stores) {
      await ensureTopic(admin, existing, changelogTopic(appId, store.name), tasks.get(sub.id)!,
        'compact')
    }
  }
  return tasks
}

/**
 * Tasks per sub-topology: its external sources' partition count, else the max over the
 * sub-topologies writing its repartition sources. Iterates to the least fixed point (maxima only
 * grow, bounded by the largest external count, so it ends); a sub-topology still without a count
 * is fed by no external topic at all — only possible through a cycle of repartition topics.
 */
function taskCounts(appId: string, subs: readonly SubTopology[],
  repartitionTopics: ReadonlySet<string>, existing: ReadonlyMap<string, number>):
Map<number, number> {
  const tasks = new Map<number, number>()
  const writerOf = new Map(subs.flatMap(sub => sub.repartitionSinks.map(topic =>
    [topic, sub.id] as const)))
  const internalOnly: SubTopology[] = []
  for (const sub of subs) {
    const external = sub.sources.filter(source => !repartitionTopics.has(source.topic))
    if (external.length === 0) internalOnly.push(sub)
    else tasks.set(sub.id, checkCoPartitioned(appId, sub, external.map(source => source.topic),
      existing))
  }
  let changed = true
  for (let round = 0; changed; round++) {
    assert(round <= subs.length * subs.length, 'task counts reach a fixed point')
    changed = false
    for (const sub of internalOnly) {
      const known = sub.sources.map(source => tasks.get(writerOf.get(source.topic) ?? -1))
        .filter((count): count is number => count !== undefined)
      const count = known.length === 0 ? undefined : Math.max(...known)
      if (count !== undefined && count > (tasks.get(sub.id) ?? 0)) {
        tasks.set(sub.id, count)
        changed = true
      }
    }
  }
  if (internalOnly.some(sub => !tasks.has(sub.id))) {
    throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `App ${appId} has a cycle of `
      + 'repartition topics; a topology must be acyclic.')
  }
  return tasks
}

function checkCoPartitioned(appId: string, sub: SubTopology, topics: readonly string[],
  existing: ReadonlyMap<string, number>): number {
  const counts = topics.map(topic => ({ topic, partitions: existing.get(topic)! }))
  if (new Set(counts.map(entry => entry.partitions)).size > 1) {
    throw new WeirError('WEIR_ERR_STREAMS_COPARTITION', `The sources of app ${appId}'s `
      + `sub-topology ${sub.id} share tasks but differ in partitions (`
      + `${counts.map(entry => `${entry.topic}: ${entry.partitions}`).join(', ')}); give them the `
      + 'same number of partitions.')
  }
  assert(counts.length > 0, 'a sub-topology with external sources has a count')
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
