/**
 * The transport the client suites run over. `WEIR_TEST_TRANSPORT` picks it: unset (or
 * 'embedded') is the broker in this process, as `Weir.open` builds it; 'remote' (the vitest
 * project 'remote', see vitest.config.ts) is a real `WeirServer` on 127.0.0.1, port 0, over the
 * same temp dir with the same broker options, and a client from `Weir.connect(server.url)`
 * (produce and fetch over its WebSocket data channel, or over HTTP requests when
 * `WEIR_TEST_DATA_CHANNEL` is 'http': the vitest project 'remote-http'). The
 * suites open clients only through these functions (directly or via client-fixtures.ts), so one
 * test body checks both transports.
 *
 * Either way the broker runs in this process, and `broker` is it (the server's, when remote):
 * tests reach it for what they check or provoke on the broker side (transaction markers settled,
 * a log rolled and compacted, a transaction log record written to simulate a crash), never in
 * place of the client. Closing the client's transport closes the server too, so a restart is
 * "close the client, open again on the same dir" on both transports.
 *
 * A test that cannot run remotely (it needs the client to sit on the embedded broker itself)
 * is skipped there with `describe.skipIf(remote)` / `it.skipIf(remote)` and a comment saying why.
 * None of the suites in the 'remote' project needs that today.
 */
import type { EmbeddedOptions } from '../../src/client/transport/embedded.ts'
import { EmbeddedTransport } from '../../src/client/transport/embedded.ts'
import { Weir } from '../../src/client/weir.ts'
import { KafkaListener } from '../../src/server/kafka/kafka-listener.ts'
import { WeirServer } from '../../src/server/weir-server.ts'

export type TransportUnderTest = 'embedded' | 'remote' | 'kafka'

/** The transport this run tests, from WEIR_TEST_TRANSPORT; anything else is a setup error. */
export function transportUnderTest(): TransportUnderTest {
  const chosen = process.env.WEIR_TEST_TRANSPORT ?? 'embedded'
  if (chosen !== 'embedded' && chosen !== 'remote' && chosen !== 'kafka') {
    throw new Error(`WEIR_TEST_TRANSPORT is '${chosen}'; use 'embedded', 'remote' or 'kafka'.`)
  }
  return chosen
}

/** Whether this run tests the remote transport (client → HTTP → WeirServer). */
export const remote = transportUnderTest() === 'remote'

/** Whether this run tests the Kafka transport (Weir.kafka → Kafka listener → broker). */
export const overKafka = transportUnderTest() === 'kafka'

/**
 * A Weir client of a broker on `dir`: embedded (`Weir.open`), or under WEIR_TEST_TRANSPORT=kafka
 * `Weir.kafka` through a Kafka listener on 127.0.0.1:0 in front of that broker. Closing the
 * client closes the listener and the broker too.
 */
export async function openWeirUnderTest(options: EmbeddedOptions): Promise<Weir> {
  if (!overKafka) return Weir.open(options)
  return (await openOverKafka(options)).weir
}

async function openOverKafka(options: EmbeddedOptions): Promise<BrokerUnderTest> {
  const broker = await EmbeddedTransport.open(options)
  const listener = await KafkaListener.start({ transport: broker, port: 0 })
  let weir: Weir
  try {
    weir = await Weir.kafka({ brokers: [`127.0.0.1:${listener.port}`],
      ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }),
      ...(options.clock === undefined ? {} : { clock: options.clock }) })
  } catch (error) {
    await listener.close()
    await broker.close()
    throw error
  }
  closesToo(weir, async () => {
    await listener.close()
    await broker.close()
  })
  return { weir, broker }
}

/**
 * Whoever closes the client's transport (weir.close() does) also runs `after`: the server or
 * listener it belongs to stops once the client's own requests were aborted and sockets freed.
 */
function closesToo(weir: Weir, after: () => Promise<void>): void {
  const transport = weir.transport
  const closeClient = transport.close.bind(transport)
  transport.close = async () => {
    try {
      await closeClient()
    } finally {
      await after()
    }
  }
}

/** The remote client's data channel under test, from WEIR_TEST_DATA_CHANNEL. */
function dataChannelUnderTest(): 'websocket' | 'http' {
  const chosen = process.env.WEIR_TEST_DATA_CHANNEL ?? 'websocket'
  if (chosen !== 'websocket' && chosen !== 'http') {
    throw new Error(`WEIR_TEST_DATA_CHANNEL is '${chosen}'; use 'websocket' or 'http'.`)
  }
  return chosen
}

/** Options of the broker under test: everything `Weir.open` takes but `dir`. */
export type BrokerUnderTestOptions = Omit<EmbeddedOptions, 'dir'>

export interface BrokerUnderTest {
  /** The client under test, over the transport this run tests. */
  readonly weir: Weir
  /** The broker behind it, in this process (the server's when remote). */
  readonly broker: EmbeddedTransport
}

/**
 * A client of a broker on `dir` with `options`, over the transport under test. The client
 * uses the options' clock and scheduler too, as `Weir.open` does. Close it with
 * `weir.close()` (or `weir.transport.close()`): that also stops the server.
 */
export async function openBrokerUnderTest(dir: string, options: BrokerUnderTestOptions = {}):
Promise<BrokerUnderTest> {
  if (overKafka) return openOverKafka({ ...options, dir })
  if (!remote) {
    const transport = await EmbeddedTransport.open({ ...options, dir })
    return { weir: new Weir(transport, options.clock, options.scheduler), broker: transport }
  }
  const server = await WeirServer.start({ dir, port: 0, broker: options })
  let weir: Weir
  try {
    weir = await Weir.connect(server.url, { clock: options.clock,
      scheduler: options.scheduler, dataChannel: dataChannelUnderTest() })
  } catch (error) {
    await server.close()
    throw error
  }
  closesToo(weir, () => server.close())
  return { weir, broker: server.transport }
}
