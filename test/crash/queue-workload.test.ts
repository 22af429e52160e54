/**
 * Goal: the broker keeps Kafka's queue and transaction guarantees for clients that send, poll
 * and run transactions while its server is killed with SIGKILL and restarted (reliability.md
 * R1, Jepsen's queue workload at a small scale).
 *
 * Property: the history of a random workload (queue-workload.ts) checked by the kit's Jepsen
 * queue checker has no anomaly: no lost or unseen committed write, no duplicate, no offset with
 * two values, no aborted or precommitted read, no skip or reordering in an assign-mode
 * consumer's reads, no write-read cycle.
 *
 * Method: a real server in a child process on fixed ports; 4 workers run 60 operations each,
 * through Weir's client over the server's HTTP API and again over its Kafka listener
 * (`Weir.kafka`, the Kafka wire protocol), while the server is SIGKILLed twice (after a third
 * and two thirds of the operations) and restarted on the same directory; then fresh consumers
 * read every partition to its end. The counts behind the verdict are printed (reliability.md
 * §4: never "0 lost" without how many were acknowledged).
 * Soak: WEIR_QUEUE_OPS=<ops per worker> and WEIR_QUEUE_KILLS=<kills>.
 */
import { describe, expect, it } from 'vitest'
import { Weir } from '../../src/client/weir.ts'
import { assertValid } from '../../src/testing/check-result.ts'
import { HistoryRecorder } from '../../src/testing/history.ts'
import { checkQueueHistory } from '../../src/testing/queue-checker.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { freePort, type ServerChild, startServerChild } from '../helpers/server-child.ts'
import { finalPolls, runQueueWorkload } from './queue-workload.ts'

const TOPIC = 'queue'
const PARTITIONS = 2
const WORKERS = 4
const OPS_PER_WORKER = Number(process.env.WEIR_QUEUE_OPS ?? 60)
const KILLS = Number(process.env.WEIR_QUEUE_KILLS ?? 2)
/**
 * Shorter than a restart (about a second: the server process loads its modules), so requests
 * made while the server is down fail and the workload records unknown outcomes, as Jepsen's
 * clients do when a node is down, instead of waiting the kill out.
 */
const RECONNECT_TIMEOUT_MS = 300

type Client = 'http' | 'kafka'

/** Weir's client over the server's HTTP API, or over its Kafka listener (Weir.kafka). */
function connect(client: Client, server: ServerChild, kafkaPort: number): Promise<Weir> {
  return client === 'http'
    ? Weir.connect(server.url, { reconnectTimeoutMs: RECONNECT_TIMEOUT_MS })
    : Weir.kafka({ brokers: [`127.0.0.1:${kafkaPort}`], connectionTimeoutMs: 1_000 })
}

describe.each<Client>(['http', 'kafka'])('the Jepsen queue workload across server SIGKILLs '
  + '(%s client)', client => {
  it('a history of sends, polls and transactions through kills and restarts has no anomaly',
    async () => {
      await withTempDir('weir-queue-workload-', async dir => {
        const [port, kafkaPort] = [await freePort(), await freePort()]
        const start = () => startServerChild(dir, port, kafkaPort)
        let server: ServerChild = await start()
        const weir = await connect(client, server, kafkaPort)
        const seed = Math.floor(Math.random() * 2 ** 31)
        try {
          await weir.admin().createTopics([{ topic: TOPIC, partitions: PARTITIONS }])
          const recorder = new HistoryRecorder<string, number>()
          const total = WORKERS * OPS_PER_WORKER
          let kills = 0
          let nemesis = Promise.resolve()
          const killAndRestart = async (): Promise<void> => {
            await server.kill()
            await new Promise(resolve => setTimeout(resolve, 50 + Math.random() * 200))
            server = await start()
          }
          await runQueueWorkload(weir, recorder, { topic: TOPIC, partitions: PARTITIONS,
            workers: WORKERS, opsPerWorker: OPS_PER_WORKER, seed,
            onOperation: done => {
              if (kills < KILLS && done >= (kills + 1) * total / (KILLS + 1)) {
                kills++
                nemesis = nemesis.then(killAndRestart)
              }
            } })
          await nemesis
          await finalPolls(weir, recorder, TOPIC, PARTITIONS)
          const result = checkQueueHistory(recorder.events)
          console.log(`queue workload, ${client} client (seed ${seed}): ${kills} kills, `
            + JSON.stringify(result.stats))
          assertValid(result, `queue history (seed ${seed})`)
          expect(kills).toBe(KILLS)
          // The verdict means something only if the workload did its work.
          expect(result.stats.acknowledged).toBeGreaterThan(total / 4)
          expect(result.stats.read).toBeGreaterThanOrEqual(result.stats.acknowledged)
        } finally {
          await weir.close()
          await server.terminate()
        }
      })
    }, 120_000)
})
