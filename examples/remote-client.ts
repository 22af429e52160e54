/**
 * The same client API against a server: start `WeirServer` (what `weir serve` runs) on a free
 * port, then `Weir.connect(url, { token })` from what could be another process or machine —
 * create a topic, produce, consume as a group, show the lag — and shut the server down cleanly.
 * Run: npx tsx examples/remote-client.ts [dir]
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Weir } from '../src/index.ts'
import { WeirServer } from '../src/server/weir-server.ts'

const dir = process.argv[2] ?? await mkdtemp(join(tmpdir(), 'weir-remote-example-'))
const token = 'example-token'
const server = await WeirServer.start({ dir, port: 0, token })
console.log(`server listening on ${server.url}`)
const weir = await Weir.connect(server.url, { token })
try {
  await weir.admin().createTopics([{ topic: 'greetings', partitions: 2 }])
  const words = ['hello', 'bonjour', 'hallo', 'ciao']
  const sent = await weir.producer().send({ topic: 'greetings',
    messages: words.map((word, i) => ({ key: `k${i}`, value: word })) })
  console.log(`sent ${sent.length} records over HTTP`)

  const consumer = weir.consumer({ groupId: 'readers', autoOffsetReset: 'earliest' })
  consumer.subscribe({ topics: ['greetings'] })
  let seen = 0
  for await (const batch of consumer) {
    for (const record of batch.records) {
      console.log(`partition ${record.partition} offset ${record.offset}: ${record.value}`)
    }
    seen += batch.records.length
    if (seen >= sent.length) break
  }
  await consumer.commit()
  await consumer.close()
  const lag = await weir.admin().lag('readers')
  console.log(`lag of group 'readers': ${lag.reduce((sum, p) => sum + p.lag, 0)}`)
} finally {
  await weir.close()
  await server.close()
}
