/**
 * Goal: two instances of a streams app in separate processes share its tasks, and when one is
 * SIGKILLed mid-stream the other takes over its tasks so that, under exactly-once, the output
 * and the state are exactly what a single flawless run would give (issue 5, "real processes").
 *
 * Method: the test process embeds the broker; two children (test/streams/app-process.ts) reach
 * it through the IPC transport (test/helpers/ipc-transport.ts) and run the spend app — orders →
 * groupBy(userId) → aggregate(sum, store 'spend') → spend-out — with 3 s session and
 * transaction timeouts. Orders are produced in chunks while they run; each user's orders go to
 * one input partition, so each user's running sums have one correct sequence (the model). Once
 * both own tasks and have committed work, one that runs aggregate tasks is SIGKILLed — at the
 * next 'before-commit' step (its transaction holds outputs, changelog records and offsets, and
 * will never be ended), or by the parent at a moment it does not choose — and production goes on.
 * When the group has no lag on the input and repartition topics and no transaction of the app
 * is open, twice in a row: a read_committed reader of spend-out must see, per user, exactly the
 * model's running sums (no duplicate, no gap, in order), and the survivor, now running every
 * task, must hold each user's final sum in its 'spend' store.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, expect, test } from 'vitest'
import { type Producer, type ProcessingStep, Weir } from '../../src/index.ts'
import {
  APP_ID, APP_PARTITIONS, type AppEvent, ForkedApp, type Order, ORDERS_TOPIC,
  REPARTITION_TOPIC, SPEND_OUT_TOPIC,
} from '../helpers/forked-app.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'

const USERS = 24
const RECORDS = 2000
const CHUNK_RECORDS = 25
/** Chunks produced before the kill is armed, and the pauses between chunks before and after. */
const CHUNKS_BEFORE_KILL = 32
const PAUSE_BEFORE_KILL_MS = 40
const PAUSE_AFTER_KILL_MS = 80
/** Commits each instance must have made before the kill. */
const COMMITS_BEFORE_KILL_MIN = 3
const START_TIMEOUT_MS = 15_000
const DRAIN_TIMEOUT_MS = 20_000
const DRAIN_POLL_MS = 100
const ALL_TASKS = ['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2', '1_3']
const OPEN_TRANSACTION_STATES = new Set(['Ongoing', 'PrepareCommit', 'PrepareAbort'])

/** Order i: user u<i mod USERS>, total i + 1, on the user's partition (keyed by order id). */
function order(i: number): { key: string, value: string, partition: number } {
  const user = i % USERS
  const value: Order = { userId: `u${user}`, total: i + 1 }
  return { key: `order-${i}`, value: JSON.stringify(value), partition: user % APP_PARTITIONS }
}

/** Per user, the running sums a flawless run emits for orders 0 … records − 1. */
function model(records: number): Map<string, number[]> {
  const sums = new Map<string, number[]>()
  for (let i = 0; i < records; i++) {
    const { userId, total } = JSON.parse(order(i).value) as Order
    const list = sums.get(userId) ?? []
    list.push((list.at(-1) ?? 0) + total)
    sums.set(userId, list)
  }
  return sums
}

/** One line per user whose sequence differs from the model, naming the first difference. */
function sequenceProblems(expected: Map<string, number[]>, actual: Map<string, number[]>):
string[] {
  const problems: string[] = []
  for (const user of new Set([...expected.keys(), ...actual.keys()])) {
    const want = expected.get(user) ?? []
    const got = actual.get(user) ?? []
    const at = want.findIndex((sum, index) => got[index] !== sum)
    if (at === -1 && got.length === want.length) continue
    const index = at === -1 ? want.length : at
    problems.push(`${user}: ${got.length} sums for ${want.length} orders; first difference at `
      + `#${index}: expected ${JSON.stringify(want.slice(index, index + 3))}, got `
      + `${JSON.stringify(got.slice(Math.max(0, index - 1), index + 3))} (from #${
        Math.max(0, index - 1)})`)
  }
  return problems
}

/** Per key, the values a read_committed reader sees in spend-out, in offset order. */
async function readOutput(weir: Weir): Promise<Map<string, number[]>> {
  const output = new Map<string, number[]>()
  for (let partition = 0; partition < APP_PARTITIONS; partition++) {
    for (const record of await readCommitted(weir.transport, SPEND_OUT_TOPIC, partition)) {
      const key = record.key?.toString() ?? '<null>'
      const list = output.get(key) ?? []
      list.push(JSON.parse(record.value?.toString() ?? 'null') as number)
      output.set(key, list)
    }
  }
  return output
}

async function produceChunks(producer: Producer, from: number, to: number, pauseMs: number):
Promise<void> {
  for (let start = from; start < to; start += CHUNK_RECORDS) {
    const messages = []
    for (let i = start; i < Math.min(to, start + CHUNK_RECORDS); i++) messages.push(order(i))
    await producer.send({ topic: ORDERS_TOPIC, messages })
    await sleep(pauseMs)
  }
}

/**
 * Waits until the app's group has no lag (read_committed) on the input and repartition topics
 * and none of its transactions is open, twice in a row; returns a description of the last poll.
 * Fails at once if the survivor dies.
 */
async function drained(weir: Weir, survivor: ForkedApp): Promise<string> {
  const admin = weir.admin()
  const deadline = Date.now() + DRAIN_TIMEOUT_MS
  let quiet = 0
  let last = ''
  while (quiet < 2) {
    if (Date.now() > deadline) throw new Error(`not drained within ${DRAIN_TIMEOUT_MS} ms: ${last}`)
    if (!survivor.alive) throw new Error(`the survivor died:\n${survivor.stderrTail}`)
    await sleep(DRAIN_POLL_MS)
    const lag = await admin.lag(APP_ID, [ORDERS_TOPIC, REPARTITION_TOPIC])
    const open = (await admin.listTransactions()).filter(txn =>
      txn.transactionalId.startsWith(APP_ID) && OPEN_TRANSACTION_STATES.has(txn.state))
    const behind = lag.filter(partition => partition.lag > 0)
    last = `lag ${JSON.stringify(behind.map(p => `${p.topic}/${p.partition}=${p.lag}`))}, open `
      + `transactions ${JSON.stringify(open.map(txn => `${txn.transactionalId}:${txn.state}`))}`
    quiet = behind.length === 0 && open.length === 0 ? quiet + 1 : 0
  }
  return last
}

let directory: string | undefined
let weir: Weir | undefined
const children: ForkedApp[] = []

afterEach(async () => {
  await Promise.all(children.splice(0).map(child => child.dispose()))
  await weir?.close()
  weir = undefined
  if (directory !== undefined) await rm(directory, { recursive: true, force: true })
  directory = undefined
})

type KillMode = { readonly atStep: ProcessingStep } | { readonly byParentAfterMs: number }

test.each<[string, KillMode]>([
  ['at its next before-commit step', { atStep: 'before-commit' }],
  ['by the parent at an unchosen moment', { byParentAfterMs: 37 }],
])('a SIGKILLed instance (%s) is replaced by the other; output and state equal the model',
  async (_, kill) => {
    directory = await mkdtemp(join(tmpdir(), 'weir-two-instances-'))
    weir = await Weir.open({ dir: join(directory, 'data') })
    await weir.admin().createTopics([{ topic: ORDERS_TOPIC, partitions: APP_PARTITIONS },
      { topic: SPEND_OUT_TOPIC, partitions: APP_PARTITIONS }])
    for (const id of ['a', 'b']) {
      children.push(new ForkedApp(id, weir.transport, { stateDir: join(directory, `state-${id}`),
        instanceId: id, processing: 'exactly-once' }))
    }
    await Promise.all(children.map(child => child.waitFor('start',
      event => event.event === 'started', START_TIMEOUT_MS)))

    const producer = weir.producer({ lingerMs: 0 })
    await produceChunks(producer, 0, CHUNKS_BEFORE_KILL * CHUNK_RECORDS, PAUSE_BEFORE_KILL_MS)
    // Both own tasks and have committed work. The victim is one that owns aggregate tasks (of
    // sub-topology 1): the survivor then has to restore its state from the changelog.
    const working = (child: ForkedApp): boolean =>
      child.tasks.length > 0 && child.commits >= COMMITS_BEFORE_KILL_MIN
    await Promise.all(children.map(child => working(child) ? undefined
      : child.waitFor('commits with tasks', () => working(child), START_TIMEOUT_MS)))
    const aggregateTasks = (child: ForkedApp): number =>
      child.tasks.filter(task => task.startsWith('1_')).length
    const [victim, survivor] = [...children].sort((x, y) => aggregateTasks(y) - aggregateTasks(x))
    expect(aggregateTasks(victim!), 'no instance owns an aggregate task').toBeGreaterThan(0)
    const outputBeforeKill = [...(await readOutput(weir)).values()].flat().length
    expect(outputBeforeKill, 'nothing committed before the kill').toBeGreaterThan(0)
    const victimTasks = victim!.tasks
    const commitsBeforeKill = victim!.commits

    const producing = produceChunks(producer, CHUNKS_BEFORE_KILL * CHUNK_RECORDS, RECORDS,
      PAUSE_AFTER_KILL_MS)
    if ('atStep' in kill) {
      victim!.send({ type: 'app', command: 'kill-at', step: kill.atStep })
    } else {
      await victim!.waitFor('a commit', event => event.event === 'status'
        && event.commits > commitsBeforeKill, START_TIMEOUT_MS)
      await sleep(kill.byParentAfterMs)
      victim!.process.kill('SIGKILL')
    }
    const killed = await victim!.exited
    await producing
    await producer.close()
    expect(killed).toEqual({ code: null, signal: 'SIGKILL' })

    const lastPoll = await drained(weir, survivor!)
    const context = `victim owned ${JSON.stringify(victimTasks)} with ${victim!.commits} `
      + `commits; ${outputBeforeKill} outputs before the kill; at the end ${lastPoll}`
    const expected = model(RECORDS)
    expect(sequenceProblems(expected, await readOutput(weir)), context).toEqual([])

    await survivor!.waitFor('status', event => event.event === 'status', START_TIMEOUT_MS)
    expect(survivor!.tasks, context).toEqual(ALL_TASKS)
    survivor!.send({ type: 'app', command: 'query' })
    const answer = await survivor!.waitFor('query result',
      (event): event is AppEvent & { event: 'query-result' } => event.event === 'query-result',
      START_TIMEOUT_MS)
    const state = new Map(answer.entries.map(entry => [entry.key, [entry.value]]))
    const finals = new Map([...expected].map(([user, sums]) => [user, [sums.at(-1)!]]))
    expect(sequenceProblems(finals, state), context).toEqual([])

    survivor!.send({ type: 'app', command: 'close' })
    await survivor!.waitFor('close', event => event.event === 'closed', START_TIMEOUT_MS)
    expect(await survivor!.exited).toEqual({ code: 0, signal: null })
  }, 60_000)
