/**
 * An event-sourced bank in one process, on the embedded broker (no server to install): an HTTP
 * API (routes.ts) in front of four streams apps and an aggregate client.
 *
 * - `account-aggregate`: the account aggregate's single writer (`aggregateTopology(accounts())`);
 *   the HTTP commands reach it through an `AggregateClient`.
 * - `transfer-saga`: moves money between accounts (`transferSaga()`), fed by `POST /transfers`.
 * - `account-balances`: the balances projection, read by `GET /accounts/:id` (`app.query`).
 * - `bank-transfer-status`: the transfers read model (transfer-status.ts), read by
 *   `GET /transfers/:id`.
 *
 * Layout of `dir`: `broker/` (the embedded broker's logs) and `state/<appId>/` (the apps' local
 * stores, rebuilt from their changelogs if lost). Every app runs with the fixed instanceId
 * 'bank', so its transactional id is the same on every run: starting again on the same `dir`
 * fences a killed earlier run's open transactions instead of waiting for them to time out.
 * Topics missing at start are created with `partitions` (3); existing ones are kept as they are.
 *
 * Close order: the HTTP server (requests in flight finish), the apps (they commit), the client,
 * the producer, the broker. A failure while starting closes whatever was opened.
 */
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import {
  AggregateClient, aggregateTopology, type CreateTopicRequest, type Producer, type StartOptions,
  type StreamsApp, type Topology, Weir,
} from '../../src/index.ts'
import {
  type AccountBalance, accountBalances, accountBalancesStore, accountBalancesTopics,
} from '../../topologies/account-balances.ts'
import { accounts } from '../../topologies/accounts.ts'
import {
  type TransferRequested, transferSaga, transferSagaTopics, transfersTopic,
} from '../../topologies/transfer-saga.ts'
import { installErrorHandlers } from './http-errors.ts'
import { type AccountsClient, type BankServices, bankRoutes } from './routes.ts'
import { transferStatus, transferStatusStore, type TransferView } from './transfer-status.ts'

export interface BankOptions {
  readonly dir: string
  /** Default 0: any free port (the URL says which). */
  readonly port?: number
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Partitions of the topics created at start; default 3. */
  readonly partitions?: number
  /** Overrides of every app's start options (tests: quicker rebalances and commits). */
  readonly start?: Partial<Omit<StartOptions, 'weir' | 'stateDir' | 'instanceId'>>
  /** How long a command waits for the writer's reply; default 30,000 ms. */
  readonly requestTimeoutMs?: number
  /** Hears of an app that stopped and of every HTTP 500; default console.error. */
  readonly onError?: (error: unknown) => void
}

export interface Bank {
  /** The HTTP API's base URL, e.g. http://127.0.0.1:3000. */
  readonly url: string
  close(): Promise<void>
}

export const BANK_INSTANCE_ID = 'bank'
/** Commands wait for the writer's commit, and a transfer takes three: keep them short. */
const WRITER_COMMIT_INTERVAL_MS = 10
const HTTP_BODY_BYTES_MAX = 16 * 1024

/**
 * Every topic the bank's apps read or write, deduplicated: the saga's and the projection's
 * lists both have `account-events` (with the aggregate's config: kept forever).
 */
export function bankTopics(partitions = 3): CreateTopicRequest[] {
  const requests = [...transferSagaTopics(partitions), ...accountBalancesTopics(partitions)]
  return requests.filter((request, index) =>
    requests.findIndex(other => other.topic === request.topic) === index)
}

async function createMissingTopics(weir: Weir, partitions: number): Promise<void> {
  const admin = weir.admin()
  const existing = new Set((await admin.listTopics()).map(topic => topic.name))
  const missing = bankTopics(partitions).filter(request => !existing.has(request.topic))
  if (missing.length > 0) await admin.createTopics(missing)
}

function httpServer(services: BankServices, onError: (error: unknown) => void):
FastifyInstance {
  const http = Fastify({
    bodyLimit: HTTP_BODY_BYTES_MAX,
    forceCloseConnections: 'idle',
    // No coercion, as in Weir's server: "10" is not an amount, an extra field is an error.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  })
  installErrorHandlers(http, onError)
  bankRoutes(http, services)
  return http
}

/** What is open so far, closed in the documented order. */
interface Opened {
  weir: Weir
  apps: StreamsApp[]
  client?: AccountsClient
  producer?: Producer
  http?: FastifyInstance
}

async function closeAll(opened: Opened): Promise<void> {
  await opened.http?.close()
  const apps = await Promise.allSettled(opened.apps.map(app => app.close()))
  await opened.client?.close()
  await opened.producer?.close()
  await opened.weir.close()
  const failed = apps.find(result => result.status === 'rejected')
  if (failed !== undefined) throw failed.reason
}

/**
 * Starts the bank on `dir`: broker, topics, apps, client, HTTP server.
 * @example
 * const bank = await startBank({ dir: './bank-data', port: 3000 })
 * await fetch(`${bank.url}/accounts/alice/deposits`, { method: 'POST',
 *   headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 100 }) })
 * await bank.close()
 */
export async function startBank(options: BankOptions): Promise<Bank> {
  const onError = options.onError ?? ((error: unknown) => console.error('bank:', error))
  const opened: Opened = { weir: await Weir.open({ dir: join(options.dir, 'broker') }), apps: [] }
  try {
    const { weir } = opened
    await createMissingTopics(weir, options.partitions ?? 3)
    const start = async (t: Topology, commitIntervalMs?: number): Promise<StreamsApp> => {
      const app = await t.start({ weir, stateDir: join(options.dir, 'state'),
        instanceId: BANK_INSTANCE_ID,
        ...(commitIntervalMs === undefined ? {} : { commitIntervalMs }), ...options.start })
      opened.apps.push(app)
      app.done.catch(error => onError(error))
      return app
    }
    await start(aggregateTopology(accounts()), WRITER_COMMIT_INTERVAL_MS)
    await start(transferSaga(), WRITER_COMMIT_INTERVAL_MS)
    const balances = await start(accountBalances())
    const statuses = await start(transferStatus())
    opened.client = await AggregateClient.open(weir, accounts(),
      options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs })
    const producer = weir.producer()
    opened.producer = producer
    opened.http = httpServer({
      accounts: opened.client,
      balances: balances.query<AccountBalance>(accountBalancesStore),
      transfers: statuses.query<TransferView>(transferStatusStore),
      requestTransfer: async (transfer: TransferRequested) => {
        await producer.send({ topic: transfersTopic, messages: [{ key: transfer.transferId,
          value: JSON.stringify(transfer) }] })
      },
      newTransferId: () => randomUUID(),
    }, onError)
    const url = await opened.http.listen({ port: options.port ?? 0,
      host: options.host ?? '127.0.0.1' })
    let closing: Promise<void> | undefined
    return { url, close: () => (closing ??= closeAll(opened)) }
  } catch (error) {
    // The start's own error is the one to throw; a failure to close is only reported.
    await closeAll(opened).catch(onError)
    throw error
  }
}
