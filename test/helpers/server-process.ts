/**
 * A Weir server in a child process, for tests that kill it: `node --import tsx
 * test/helpers/server-process.ts <dir> <port> [<kafka-port>]` prints `listening <url>` once it
 * accepts requests (also on the Kafka wire protocol at <kafka-port> when given), and shuts down
 * gracefully on SIGTERM (printing `closed`). SIGKILL is the test's business.
 */
import { WeirServer } from '../../src/server/weir-server.ts'

const [dir, port, kafkaPort] = process.argv.slice(2)
if (dir === undefined || port === undefined) {
  process.stderr.write('usage: server-process.ts <dir> <port> [<kafka-port>]\n')
  process.exit(2)
}
const server = await WeirServer.start({ dir, port: Number(port),
  kafkaPort: kafkaPort === undefined ? undefined : Number(kafkaPort) })
process.stdout.write(`listening ${server.url}\n`)
process.once('SIGTERM', () => {
  void server.close().then(() => {
    process.stdout.write('closed\n')
    process.exit(0)
  })
})
