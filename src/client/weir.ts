/**
 * The entry point applications use: `Weir.open({ dir })` embeds a broker in this process;
 * `Weir.connect(url, { token })` reaches a `weir serve` server and returns the same API;
 * `Weir.kafka({ brokers })` runs the same API on a Kafka cluster.
 *
 * @example
 * const weir = await Weir.open({ dir: './data' })
 * await weir.admin().createTopics([{ topic: 'orders', partitions: 3 }])
 * await weir.producer().send({ topic: 'orders', messages: [{ key: 'u1', value: '{"total":5}' }] })
 * const consumer = weir.consumer({ groupId: 'billing', autoOffsetReset: 'earliest' })
 * consumer.subscribe({ topics: ['orders'] })
 * for await (const batch of consumer) { ... }
 */
import type { Clock, Scheduler } from '../util/clock.ts'
import { systemClock, systemScheduler } from '../util/clock.ts'
import { Admin } from './admin.ts'
import { Consumer } from './consumer.ts'
import type { ConsumerConfig } from './consumer-config.ts'
import { Producer } from './producer.ts'
import type { ProducerConfig } from './producer-config.ts'
import type { EmbeddedOptions } from './transport/embedded.ts'
import type { KafkaTransportOptions } from './transport/kafka/kafka-transport.ts'
import type { Transport } from './transport/transport.ts'
import { RemoteTransport, type RemoteTransportOptions } from './transport/http/remote-transport.ts'

export type WeirOpenOptions = EmbeddedOptions
export type WeirConnectOptions = Omit<RemoteTransportOptions, 'url'> & {
  readonly clock?: Clock
  readonly scheduler?: Scheduler
}

export type WeirKafkaOptions = KafkaTransportOptions & { readonly clock?: Clock }

export class Weir {
  private readonly producers = new Set<Producer>()
  private readonly consumers = new Set<Consumer>()

  constructor(
    readonly transport: Transport,
    private readonly clock: Clock = systemClock,
    private readonly scheduler: Scheduler = systemScheduler,
  ) {}

  /** Opens (or creates) an embedded broker in `dir`, recovering it after a crash. */
  static async open(options: WeirOpenOptions): Promise<Weir> {
    // Loaded here, not at the top: a remote client (each CLI call) need not load the broker.
    const { EmbeddedTransport } = await import('./transport/embedded.ts')
    const transport = await EmbeddedTransport.open(options)
    return new Weir(transport, options.clock, options.scheduler)
  }

  /**
   * Connects to a Weir server (`weir serve`), waiting up to `reconnectTimeoutMs` (30 s) for it to
   * answer. Requests that find the server down are retried until it is back within that time.
   * @throws NETWORK_EXCEPTION when the server cannot be reached, INVALID_CONFIG for a bad URL
   */
  static async connect(url: string, options: WeirConnectOptions = {}): Promise<Weir> {
    const transport = new RemoteTransport({ ...options, url })
    try {
      await transport.health()
    } catch (error) {
      await transport.close()
      throw error
    }
    return new Weir(transport, options.clock, options.scheduler)
  }

  /**
   * Connects to a Kafka cluster (Apache Kafka, Redpanda, or `weir serve`'s Kafka listener) and
   * returns the same API: topologies and the event-sourcing kit run on it unchanged, with
   * exactly-once through Kafka transactions. What differs is in the README ("Kafka transport").
   * @throws NETWORK_EXCEPTION when no broker answers, INVALID_CONFIG for a bad broker address
   */
  static async kafka(options: WeirKafkaOptions): Promise<Weir> {
    // Loaded here: it brings KafkaJS's network layer, which embedded and remote users never need.
    const { KafkaTransport } = await import('./transport/kafka/kafka-transport.ts')
    const transport = new KafkaTransport(options)
    try {
      await transport.connect()
    } catch (error) {
      await transport.close()
      throw error
    }
    return new Weir(transport, options.clock, options.scheduler)
  }

  producer(config: Partial<ProducerConfig> = {}): Producer {
    const producer = new Producer(this.transport, config, this.clock, this.scheduler)
    this.producers.add(producer)
    return producer
  }

  consumer(config: Partial<ConsumerConfig> = {}): Consumer {
    const consumer = new Consumer(this.transport, config, this.clock, this.scheduler)
    this.consumers.add(consumer)
    return consumer
  }

  admin(): Admin {
    return new Admin(this.transport)
  }

  /** Closes consumers (committing), then producers (flushing), then the transport. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.consumers].map(consumer => consumer.close()))
    await Promise.allSettled([...this.producers].map(producer => producer.close()))
    await this.transport.close()
  }
}
