/**
 * The client of an aggregate type (docs/event-sourcing.md): sends requests to the type's single
 * writer (`aggregateTopology`, which must be running) and waits for their replies. Each client
 * has an id; its replies are keyed by it, so it reads one partition of `<type>-replies` (read
 * committed: a reply is seen only once the transaction holding its events has committed).
 *
 * - `append(id, events, { expectedVersion })`: atomic; a version mismatch throws
 *   WrongExpectedVersionError (code WRONG_EXPECTED_VERSION) with the actual version.
 * - `load(id)`: the aggregate's version and state (replayed by the writer from its snapshot).
 * - `handle(id, command)`: EventStoreDB's command handler — load, decide here, append with the
 *   loaded version as expected version; on a conflict, again, up to `attemptsMax` attempts.
 * - `execute(id, command)`: the writer decides, so no conflict is possible (what sagas use).
 *
 * A request unanswered within `requestTimeoutMs` fails with REQUEST_TIMED_OUT; it may still be
 * applied. Sending it again with the same `requestId` is safe: the writer answers a repeated
 * id with its first outcome.
 */
import { randomUUID } from 'node:crypto'
import { partitionForKey } from '../broker/partitioner.ts'
import type { Consumer } from '../client/consumer.ts'
import type { Producer } from '../client/producer.ts'
import type { Weir } from '../client/weir.ts'
import { WeirError } from '../errors.ts'
import {
  type Aggregate, checkExpectedVersion, type ExpectedVersion, isRejection,
} from './aggregate.ts'
import { CommandRejectedError, WrongExpectedVersionError } from './es-errors.ts'
import { type Outcome, type Reply, repliesTopic, type Request, requestsTopic } from './envelopes.ts'

export interface AggregateClientOptions {
  /** How long a request waits for its reply; default 30,000 ms. */
  readonly requestTimeoutMs?: number
  /** Attempts of `handle()` on conflicts; default 5. */
  readonly attemptsMax?: number
}

interface Pending {
  resolve(outcome: Outcome<unknown, unknown>): void
  reject(error: unknown): void
}

export class AggregateClient<S, C, E, R = string> {
  readonly clientId = randomUUID()
  private readonly pending = new Map<string, Pending>()
  private readonly polling: Promise<void>
  private closed = false
  /** Why replies are no longer read, if they are not. */
  private failure: WeirError | undefined

  private constructor(
    private readonly aggregate: Aggregate<S, C, E, R>,
    private readonly producer: Producer,
    private readonly replies: Consumer,
    private readonly options: Required<AggregateClientOptions>,
  ) {
    this.polling = this.poll()
  }

  /** A client of `aggregate`'s writer; the aggregate's topics must exist. */
  static async open<S, C, E, R>(weir: Weir, aggregate: Aggregate<S, C, E, R>,
    options: AggregateClientOptions = {}): Promise<AggregateClient<S, C, E, R>> {
    const topic = repliesTopic(aggregate.type)
    const [description] = await weir.admin().describeTopics([topic])
    const replies = weir.consumer({ isolationLevel: 'read_committed', maxWaitMs: 20 })
    const client = new AggregateClient(aggregate, weir.producer(), replies,
      { requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
        attemptsMax: options.attemptsMax ?? 5 })
    const partition = partitionForKey(Buffer.from(client.clientId), description!.partitions)
    await replies.assign([{ topic, partition }])
    await replies.seekToEnd()
    return client
  }

  async append(id: string, events: readonly E[],
    options: { expectedVersion?: ExpectedVersion } = {}):
    Promise<{ firstVersion: number, lastVersion: number }> {
    if (events.length === 0) {
      throw new WeirError('WEIR_ERR_ES_REQUEST', `An append to ${id} needs at least one event.`)
    }
    const expected = checkExpectedVersion(options.expectedVersion ?? 'any')
    const outcome = await this.request(id, expected, { kind: 'append', events })
    return this.appended(id, expected, outcome)
  }

  async load(id: string): Promise<{ version: number, state: S }> {
    const outcome = await this.request(id, 'any', { kind: 'load' })
    if (outcome.kind !== 'loaded') throw new Error(`unexpected outcome ${outcome.kind}`)
    return { version: outcome.version, state: outcome.state as S }
  }

  /** The writer decides the command against the current state (no conflict possible). */
  async execute(id: string, command: C): Promise<{ firstVersion: number, lastVersion: number }> {
    const outcome = await this.request(id, 'any', { kind: 'command', command })
    return this.appended(id, 'any', outcome)
  }

  /**
   * Load, decide, append expecting the loaded version; retried on WRONG_EXPECTED_VERSION.
   * @throws CommandRejectedError, or the last WrongExpectedVersionError after `attemptsMax`
   */
  async handle(id: string, command: C): Promise<{ firstVersion: number, lastVersion: number }> {
    for (let attempt = 1; ; attempt++) {
      const { version, state } = await this.load(id)
      const decision = this.aggregate.decide(state, command)
      if (isRejection(decision)) throw new CommandRejectedError(id, decision.rejected)
      if (decision.length === 0) return { firstVersion: version + 1, lastVersion: version }
      try {
        return await this.append(id, decision, { expectedVersion: version })
      } catch (error) {
        if (!WeirError.is(error, 'WRONG_EXPECTED_VERSION') || attempt >= this.options.attemptsMax) {
          throw error
        }
      }
    }
  }

  private appended(id: string, expected: ExpectedVersion, outcome: Outcome<unknown, unknown>):
  { firstVersion: number, lastVersion: number } {
    switch (outcome.kind) {
      case 'appended': return { firstVersion: outcome.firstVersion,
        lastVersion: outcome.lastVersion }
      case 'wrong-expected-version':
        throw new WrongExpectedVersionError(id, expected, outcome.actualVersion)
      case 'rejected': throw new CommandRejectedError(id, outcome.rejection)
      case 'invalid': throw new WeirError('WEIR_ERR_ES_REQUEST', `The writer of ${id} refused `
        + `the request: ${outcome.reason}.`)
      default: throw new Error(`unexpected outcome ${outcome.kind}`)
    }
  }

  private async request(id: string, expectedVersion: ExpectedVersion,
    body: Request<C, E>['body']): Promise<Outcome<unknown, unknown>> {
    if (this.closed) {
      throw new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The aggregate client is closed.')
    }
    // Replies are no longer read: fail now rather than after requestTimeoutMs.
    if (this.failure !== undefined) throw this.failure
    if (id.length === 0) throw new WeirError('WEIR_ERR_ES_REQUEST', 'An aggregate id is empty.')
    const request: Request<C, E> = { requestId: randomUUID(), replyTo: this.clientId,
      expectedVersion, body }
    const answered = new Promise<Outcome<unknown, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(request.requestId)
        reject(new WeirError('REQUEST_TIMED_OUT', `No reply from aggregate ${id}'s writer within `
          + `${this.options.requestTimeoutMs} ms; is its app (aggregateTopology) running?`))
      }, this.options.requestTimeoutMs)
      this.pending.set(request.requestId, {
        resolve: outcome => { clearTimeout(timer); resolve(outcome) },
        reject: error => { clearTimeout(timer); reject(error) },
      })
    })
    await this.producer.send({ topic: requestsTopic(this.aggregate.type),
      messages: [{ key: id, value: JSON.stringify(request) }] })
    return answered
  }

  private async poll(): Promise<void> {
    try {
      for await (const batch of this.replies) {
        for (const record of batch.records) {
          const reply = parseReply(record.value)
          // Anyone can write to the replies topic: what is not a reply answers nothing.
          if (reply === undefined) continue
          const waiting = this.pending.get(reply.requestId)
          this.pending.delete(reply.requestId)
          waiting?.resolve(reply.outcome)
        }
        if (this.closed) break
      }
    } catch (error) {
      this.failure = new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The aggregate client stopped '
        + `reading replies (${error instanceof Error ? error.message : String(error)}); open a `
        + 'new one.', { cause: error })
      for (const waiting of this.pending.values()) waiting.reject(this.failure)
      this.pending.clear()
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.replies.close()
    await this.polling.catch(() => undefined)
    await this.producer.close()
    for (const waiting of this.pending.values()) {
      waiting.reject(new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The aggregate client was closed.'))
    }
    this.pending.clear()
  }
}

function parseReply(value: Buffer | null): Reply<unknown, unknown> | undefined {
  if (value === null) return undefined
  try {
    const reply = JSON.parse(value.toString()) as Partial<Reply<unknown, unknown>> | null
    if (typeof reply?.requestId !== 'string' || typeof reply.outcome !== 'object') return undefined
    return reply as Reply<unknown, unknown>
  } catch {
    return undefined
  }
}
