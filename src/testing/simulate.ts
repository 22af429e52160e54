/**
 * `simulate(topology, { seed, inputs, faults })`: runs a topology through a schedule of faults
 * and returns what it wrote, its stores and a trace of what the simulation did.
 *
 * The inputs are produced in chunks cut where faults are scheduled (`afterRecords`); before each
 * chunk the faults due are applied, then the run waits until the app has processed and
 * committed it (restarting crashed instances), so every fault meets work in progress:
 * - `crash`: the running instance dies at the next `step` it reaches after that point (as
 *   killed), losing its state directory if asked; a new instance with the same instance id
 *   takes over (fencing the old one's transaction) and restores what it lost from changelogs;
 * - `broker-restart` / `power-loss`: the broker dies (kill -9, or the machine loses power and
 *   every write not fsynced with it) and reopens on its disk; the app dies with it and restarts;
 * - `rebalance`: a second instance joins; the next chunk waits until it holds tasks (the group
 *   is stable with both), and it leaves after that chunk;
 * - `delay-request` / `duplicate-request`: the next request of that API is late or sent twice;
 * - `zombie`: a new instance with the same instance id starts while the old one still runs;
 *   the old one must be fenced, and stops.
 *
 * The trace lists only the simulation's decisions and what they led to (chunks produced,
 * faults applied, crashes and restarts, output counts), never timings, so the same seed,
 * inputs and faults give the same trace, byte for byte, whenever exactly-once holds. The seed
 * also drives what a power loss keeps. fast-check, given `faultSchedules` (arbitraries.ts),
 * shrinks a failing schedule and prints it with its seed.
 */
import type { CreateTopicRequest } from '../broker/broker.ts'
import type { StartOptions, StreamsApp } from '../streams/streams-app.ts'
import type { Topology } from '../streams/topology.ts'
import type { KeyValue } from '../streams/store-query.ts'
import type { ReadRecord, ScheduledFault, TestRecord } from './model.ts'
import { readTopic } from './read-topic.ts'
import { type AppRun, startInstance, untilCaughtUp } from './simulation-apps.ts'
import { SimulationWorld } from './simulation-world.ts'

export interface SimulationOptions {
  /** Reproduces the run (with the same inputs and faults); printed by failing properties. */
  readonly seed: number
  /** Records produced, in order, to their topics. */
  readonly inputs: ReadonlyArray<{ readonly topic: string, readonly record: TestRecord }>
  readonly faults?: readonly ScheduledFault[]
  /**
   * Input positions where the run waits until the app has processed everything before it
   * produces more (no fault): phases, e.g. a saga's replies only after its requests went out.
   */
  readonly barriers?: readonly number[]
  /** Topics read back at the end (read_committed, JSON values unless the topology's). */
  readonly outputs: readonly string[]
  /** Stores whose final entries are returned. */
  readonly stores?: readonly string[]
  /** Topics to create first; else every topic the topology reads or writes, `partitions` each. */
  readonly topics?: readonly CreateTopicRequest[]
  readonly partitions?: number
  readonly processing?: 'exactly-once' | 'at-least-once'
  /** Overrides for the app (e.g. consumer timeouts). */
  readonly start?: Partial<Omit<StartOptions, 'weir' | 'stateDir' | 'instanceId' | 'onStep'>>
}

export interface SimulationResult {
  readonly outputs: Record<string, Array<ReadRecord<string, unknown>>>
  readonly stores: Record<string, Array<KeyValue<string, unknown>>>
  readonly trace: readonly string[]
}

/** Input positions where the run stops (faults, barriers), in order, within 0..inputs. */
function cutPoints(inputs: number, faults: readonly ScheduledFault[],
  barriers: readonly number[]): number[] {
  const within = (at: number) => Math.max(0, Math.min(inputs, at))
  return [...new Set([0, ...faults.map(f => within(f.afterRecords)), ...barriers.map(within),
    inputs])].sort((a, b) => a - b)
}

export async function simulate(topology: Topology, options: SimulationOptions):
Promise<SimulationResult> {
  const world = await SimulationWorld.open(options.seed)
  const trace: string[] = [`seed ${options.seed}`]
  let run: AppRun | undefined
  try {
    await createTopics(world, topology, options)
    run = await startInstance(world, topology, options, trace)
    const cuts = cutPoints(options.inputs.length, options.faults ?? [], options.barriers ?? [])
    for (let i = 0; i < cuts.length; i++) {
      const at = cuts[i]!
      const due = (options.faults ?? []).filter(f =>
        Math.max(0, Math.min(options.inputs.length, f.afterRecords)) === at)
      for (const [n, { fault }] of due.entries()) {
        run = await run.apply(fault, options.seed + at * 31 + n)
      }
      const end = cuts[i + 1] ?? at
      if (end > at) {
        await produceChunk(world, topology, options.inputs.slice(at, end))
        trace.push(`produce ${at}..${end - 1}`)
      }
      run = await untilCaughtUp(run)
      run = await run.settle()
    }
    const unfired = run.unfiredCrash()
    if (unfired !== undefined) trace.push(`crash at ${unfired} armed, never reached`)
    return await finish(world, run.app, options, trace)
  } finally {
    await run?.close()
    await world.close()
  }
}

async function createTopics(world: SimulationWorld, topology: Topology,
  options: SimulationOptions): Promise<void> {
  const given = options.topics ?? []
  const named = new Set(given.map(topic => topic.topic))
  const description = topology.describe()
  const external = description.subTopologies.flatMap(sub => [...sub.sources, ...sub.sinks])
  const internal = new Set(description.internalTopics)
  const missing = [...new Set(external)].filter(topic => !named.has(topic)
    && !internal.has(topic))
  await world.weir.admin().createTopics([...given,
    ...missing.map(topic => ({ topic, partitions: options.partitions ?? 1 }))])
}

async function produceChunk(world: SimulationWorld, topology: Topology,
  inputs: SimulationOptions['inputs']): Promise<void> {
  const producer = world.weir.producer()
  try {
    // One send per run of records to the same topic: the order within a topic is kept.
    for (let from = 0; from < inputs.length;) {
      const topic = inputs[from]!.topic
      let to = from
      while (to < inputs.length && inputs[to]!.topic === topic) to++
      const source = topology.sources.get(topic)
      await producer.send({ topic, messages: inputs.slice(from, to).map(({ record }) => ({
        key: record.key === null ? null
          : (source?.keySerde.serialize(record.key) ?? Buffer.from(String(record.key))),
        // null is a tombstone (a delete in a table), as in Kafka Streams' test driver.
        value: record.value === null ? null : source?.valueSerde.serialize(record.value)
          ?? Buffer.from(JSON.stringify(record.value)),
        ...(record.timestamp === undefined ? {} : { timestamp: record.timestamp }),
        ...(record.partition === undefined ? {} : { partition: record.partition }) })) })
      from = to
    }
  } finally {
    await producer.close()
  }
}

async function finish(world: SimulationWorld, app: StreamsApp, options: SimulationOptions,
  trace: string[]): Promise<SimulationResult> {
  const outputs: SimulationResult['outputs'] = {}
  for (const topic of options.outputs) {
    outputs[topic] = (await readTopic<string, unknown>(world.weir, topic)).records
    trace.push(`output ${topic}: ${outputs[topic].length} records`)
  }
  const stores: SimulationResult['stores'] = {}
  for (const name of options.stores ?? []) {
    stores[name] = await app.query<unknown, string>(name).all()
    trace.push(`store ${name}: ${stores[name].length} entries`)
  }
  return { outputs, stores, trace }
}
