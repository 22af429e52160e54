/**
 * Goal (issue 9): librdkafka 2.0.2 (through kcat 1.7.1), unchanged, runs a transaction on Weir
 * through the Kafka listener: FindCoordinator type 1, InitProducerId v1, AddPartitionsToTxn v0,
 * Produce with transactional batches, EndTxn v1 (reference §2 c, §10.5). `kcat -P -X
 * transactional.id=…` wraps its whole input in one transaction and commits at the end of input.
 * Method: an embedded broker in a temp dir, the listener on 127.0.0.1:0, kcat as a child
 * process; Weir's own read_committed consumer reads the lines back and Weir's admin describes
 * the transaction. Skipped, saying so, when kcat is not installed (.ci/run installs it).
 */
import { execFile } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { FAST, pull } from '../../helpers/client-fixtures.ts'
import { kcatInstalled, listenerWorld } from './kafka-wire.ts'

const installed = kcatInstalled
if (!installed) console.warn('kcat is not installed: skipping the kcat transaction test')

/** Runs kcat with `input` on stdin; resolves with its exit code and stderr. */
function kcat(args: readonly string[], input: string):
Promise<{ code: number, stderr: string }> {
  return new Promise(resolve => {
    const child = execFile('kcat', [...args], { timeout: 30_000 }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : 1),
        stderr })
    })
    child.stdin!.end(input)
  })
}

describe.skipIf(!installed)('kcat transactional producer against the Kafka listener', () => {
  const world = listenerWorld('weir-kcat-txn-', { topics: [{ topic: 'lines', partitions: 1 }] })

  it('commits its input as one transaction, read back by Weir\'s read_committed consumer',
    async () => {
      const { code, stderr } = await kcat(['-P', '-b', `127.0.0.1:${world.listener.port}`,
        '-t', 'lines', '-X', 'transactional.id=kcat-tx', '-K:'], 'k1:one\nk2:two\nthree\n')
      expect(stderr).not.toMatch(/error|fatal/i)
      expect(code).toBe(0)
      const consumer = world.weir.consumer({ ...FAST })
      consumer.assign([{ topic: 'lines', partition: 0 }])
      await consumer.seekToBeginning([{ topic: 'lines', partition: 0 }])
      const records = await pull(consumer, 3)
      await consumer.close()
      expect(records.map(record => [record.key?.toString() ?? null, record.value?.toString()]))
        .toEqual([['k1', 'one'], ['k2', 'two'], [null, 'three']])
      const [transaction] = await world.weir.admin().describeTransactions(['kcat-tx'])
      expect(transaction!.state).toMatch(/^(Prepare|Complete)Commit$/)
      // The commit marker follows the three records (the high watermark counts it).
      const [description] = await world.weir.admin().describeTopics(['lines'])
      expect(description!.partitionStates[0]!.highWatermark).toBe(4)
    })
})
