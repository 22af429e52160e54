/**
 * The bank's HTTP API (JSON in, JSON out). Amounts are positive integers (cents); account and
 * transfer ids are 1–100 of `A-Z a-z 0-9 . _ -`. Every route has a schema: a body, path or query
 * that does not match (a missing or extra field, a string amount, 0, 1.5) is a 400
 * `{ code: 'WEIR_ERR_SERVER_BODY_MALFORMED', message }` and nothing is written.
 *
 * Commands go to the account aggregate's single writer through `AggregateClient.handle` (load,
 * decide, append expecting the loaded version, retried on a conflict). An account is opened by
 * its first deposit.
 * - `POST /accounts/:id/deposits {amount}`, `POST /accounts/:id/withdrawals {amount}`,
 *   `POST /accounts/:id/close` (no body) → 200 `{ accountId, version }`, the account's version
 *   after the command (closing a closed account appends nothing). A rejection → 422
 *   `{ code: 'WEIR_ERR_ES_REJECTED', message, rejection }`, rejection 'insufficient-funds' or
 *   'account-closed' ('invalid-amount' cannot pass the schema). Still conflicting after 5
 *   attempts (many writers on one account) → 409 WRONG_EXPECTED_VERSION; no reply from the
 *   writer within the client's timeout → 503 REQUEST_TIMED_OUT (the command may still apply).
 * - `POST /transfers {transferId?, from, to, amount}` → 202 `{ transferId }` (a UUID when none
 *   is given) once the TransferRequested is written to `transfers`; the saga does the rest.
 *   Sending one transferId again is idempotent: the saga runs the first request only.
 *   `from` = `to` → 400.
 *
 * Queries read the read models, which are eventually consistent: they lag the writer by about
 * a commit interval, so a client that needs its own write polls.
 * - `GET /accounts/:id` → 200 `{ accountId, balance, closed, version, source: 'projection' }`
 *   from the balances projection; 404 `BANK_ERR_ACCOUNT_NOT_FOUND` for an account it does not
 *   hold (yet). `?consistent=true` asks the writer instead (`AggregateClient.load`, one round
 *   trip through the aggregate's topics): `source: 'aggregate'`, current as of the reply.
 * - `GET /transfers/:id` → 202 `{ transferId, from, to, amount, status: 'pending' }` while the
 *   saga runs; 200 with `status` 'completed', 'failed' or 'compensated' (and `reason`, e.g.
 *   'insufficient-funds', 'account-closed') once it ended; 404 `BANK_ERR_TRANSFER_NOT_FOUND`
 *   for an id the read model has not seen (unknown, or accepted a moment ago).
 */
import type { FastifyInstance } from 'fastify'
import { type AggregateClient, type StoreQuery, WeirError } from '../../src/index.ts'
import type { AccountBalance } from '../../topologies/account-balances.ts'
import type {
  AccountCommand, AccountEvent, AccountRejection, AccountState,
} from '../../topologies/accounts.ts'
import type { TransferRequested } from '../../topologies/transfer-saga.ts'
import { errorBodySchema, notFound } from './http-errors.ts'
import type { TransferView } from './transfer-status.ts'

export type AccountsClient = AggregateClient<AccountState, AccountCommand, AccountEvent,
  AccountRejection>

/** What the routes use; bank.ts wires them to the apps. */
export interface BankServices {
  readonly accounts: AccountsClient
  readonly balances: StoreQuery<AccountBalance>
  readonly transfers: StoreQuery<TransferView>
  /** Writes a TransferRequested to `transfers`, keyed by its id. */
  requestTransfer(transfer: TransferRequested): Promise<void>
  newTransferId(): string
}

type Schema = Record<string, unknown>
const object = (properties: Record<string, Schema>, required: readonly string[]): Schema =>
  ({ type: 'object', properties, required, additionalProperties: false })
const id: Schema = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' }
const amount: Schema = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER }
const version: Schema = { type: 'integer', minimum: 0 }
const errors = { '4xx': errorBodySchema, '5xx': errorBodySchema }

const params = object({ id }, ['id'])
const commandSchema = (body?: Schema) => ({ params, ...(body === undefined ? {} : { body }),
  response: { 200: object({ accountId: id, version }, ['accountId', 'version']), ...errors } })
const accountView = object({ accountId: id, balance: { type: 'integer' },
  closed: { type: 'boolean' }, version, source: { type: 'string' } },
['accountId', 'balance', 'closed', 'version', 'source'])
const transferView = object({ transferId: id, from: id, to: id, amount,
  status: { type: 'string' }, reason: { type: 'string' } },
['transferId', 'from', 'to', 'amount', 'status'])

interface IdRoute { Params: { id: string } }
interface AmountRoute extends IdRoute { Body: { amount: number } }

/** The account commands: each one `handle`d by the aggregate client. */
function commandRoutes(app: FastifyInstance, services: BankServices): void {
  const handled = async (accountId: string, command: AccountCommand) => {
    const { lastVersion } = await services.accounts.handle(accountId, command)
    return { accountId, version: lastVersion }
  }
  const amountBody = object({ amount }, ['amount'])
  app.post<AmountRoute>('/accounts/:id/deposits', { schema: commandSchema(amountBody) },
    async request => handled(request.params.id, { type: 'deposit',
      amount: request.body.amount }))
  app.post<AmountRoute>('/accounts/:id/withdrawals', { schema: commandSchema(amountBody) },
    async request => handled(request.params.id, { type: 'withdraw',
      amount: request.body.amount }))
  app.post<IdRoute>('/accounts/:id/close', { schema: commandSchema() },
    async request => handled(request.params.id, { type: 'close' }))
}

interface BalanceRoute extends IdRoute { Querystring: { consistent?: 'true' | 'false' } }

/** `GET /accounts/:id`: the projection's balance, or the writer's with ?consistent=true. */
function accountRoute(app: FastifyInstance, services: BankServices): void {
  const schema = { params, querystring: object({ consistent: { type: 'string',
    enum: ['true', 'false'] } }, []), response: { 200: accountView, ...errors } }
  app.get<BalanceRoute>('/accounts/:id', { schema }, async (request, reply) => {
    const accountId = request.params.id
    if (request.query.consistent === 'true') {
      const { version: current, state } = await services.accounts.load(accountId)
      if (current === 0) {
        const missing = notFound('BANK_ERR_ACCOUNT_NOT_FOUND', `No account ${accountId}: `
          + 'it has no events (an account is opened by its first deposit).')
        return reply.code(missing.status).send(missing.body)
      }
      return { accountId, balance: state.balance, closed: state.closed, version: current,
        source: 'aggregate' }
    }
    const found = await services.balances.get(accountId)
    if (found === undefined) {
      const missing = notFound('BANK_ERR_ACCOUNT_NOT_FOUND', `No account ${accountId} (the `
        + 'balances projection lags the writer: an account just opened shows soon).')
      return reply.code(missing.status).send(missing.body)
    }
    return { accountId, balance: found.balance, closed: found.closed, version: found.version,
      source: 'projection' }
  })
}

interface TransferBody { transferId?: string, from: string, to: string, amount: number }

/** `POST /transfers` and `GET /transfers/:id`. */
function transferRoutes(app: FastifyInstance, services: BankServices): void {
  const body = object({ transferId: id, from: id, to: id, amount }, ['from', 'to', 'amount'])
  const accepted = { 202: object({ transferId: id }, ['transferId']), ...errors }
  app.post<{ Body: TransferBody }>('/transfers', { schema: { body, response: accepted } },
    async (request, reply) => {
      const { from, to, amount: cents } = request.body
      if (from === to) {
        throw new WeirError('WEIR_ERR_SERVER_BODY_MALFORMED', `A transfer needs two accounts; `
          + `from and to are both ${from}.`)
      }
      const transferId = request.body.transferId ?? services.newTransferId()
      await services.requestTransfer({ transferId, from, to, amount: cents })
      return reply.code(202).header('location', `/transfers/${transferId}`)
        .send({ transferId })
    })
  const schema = { params, response: { 200: transferView, 202: transferView, ...errors } }
  app.get<IdRoute>('/transfers/:id', { schema }, async (request, reply) => {
    const view = await services.transfers.get(request.params.id)
    if (view === undefined) {
      const missing = notFound('BANK_ERR_TRANSFER_NOT_FOUND', `No transfer ${request.params.id}`
        + ' (the read model lags the transfers topic: a transfer just accepted shows soon).')
      return reply.code(missing.status).send(missing.body)
    }
    return reply.code(view.status === 'pending' ? 202 : 200).send(view)
  })
}

/** Registers every route of the API described above. */
export function bankRoutes(app: FastifyInstance, services: BankServices): void {
  commandRoutes(app, services)
  accountRoute(app, services)
  transferRoutes(app, services)
}
