/**
 * The client API end to end on an embedded broker: create a topic, produce keyed records with the
 * idempotent producer, consume them as a group with the RxJS adapter, commit, and show the lag.
 * Run: npx tsx examples/client.ts [dir]
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { firstValueFrom, take, toArray } from 'rxjs'
import { Weir } from '../src/index.ts'

const dir = process.argv[2] ?? await mkdtemp(join(tmpdir(), 'weir-example-'))
const weir = await Weir.open({ dir })
try {
  const admin = weir.admin()
  await admin.createTopics([{ topic: 'payments', partitions: 3 }])
  const producer = weir.producer({ lingerMs: 2 })
  const sent = await producer.send({ topic: 'payments', messages: ['alice', 'bob', 'carol', 'alice']
    .map((user, i) => ({ key: user, value: JSON.stringify({ user, amount: 10 * (i + 1) }) })) })
  for (const record of sent) {
    console.log(`sent to partition ${record.partition} at offset ${record.offset}`)
  }

  const consumer = weir.consumer({ groupId: 'ledger', autoOffsetReset: 'earliest' })
  consumer.subscribe({ topics: ['payments'] })
  let seen = 0
  while (seen < sent.length) {
    const [batch] = await firstValueFrom(consumer.observe().pipe(take(1), toArray()))
    for (const record of batch!.records) {
      console.log(`partition ${record.partition} offset ${record.offset}: `
        + `${record.key?.toString()} ${record.value?.toString()}`)
    }
    seen += batch!.records.length
  }
  await consumer.commit()
  const lag = await admin.lag('ledger')
  console.log(`total lag after commit: ${lag.reduce((sum, p) => sum + p.lag, 0)}`)
  await consumer.close()
} finally {
  await weir.close()
}
