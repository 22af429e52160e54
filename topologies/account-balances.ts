/**
 * Account balances projection (issue 8, docs/event-sourcing.md "Projections"): the events of the
 * `account` aggregate (`StoredEvent` JSON `{ version, event, requestId }` keyed by account id on
 * `account-events`) → one `AccountBalance` per account in the store `account-balances`
 * (queryable with `app.query`), also sent to the compacted topic `account-balances`.
 *
 * Why idempotent by version. A read model must not depend on how often it saw an event: a
 * producer retry can write an event twice, and `weir projection rebuild` replays the whole topic
 * over whatever the app had. Each stored entry keeps the version of the last event it applied,
 * and an event whose version is at most that is ignored (nothing stored, nothing emitted). So a
 * rebuild from offset 0 and the live run end with the same table. A gap (version > stored + 1)
 * is applied, not refused: the event stream is the truth, and a projection cannot ask for the
 * missing events; `version` then shows the last one applied.
 *
 * `updatedAt` is the timestamp of the record that carried the event (set when it was appended),
 * not the wall clock of the projection: a rebuild must reproduce it exactly.
 */
import {
  aggregateTopics, type CreateTopicRequest, eventsTopic, process, type StoredEvent, topology,
  type Topology,
} from '../src/index.ts'
import { type AccountEvent, accountType, balanceChange } from './accounts.ts'

/** The `account` aggregate's events (written by its single writer, src/es). */
export const accountEventsTopic = eventsTopic(accountType)
export const accountBalancesTopic = 'account-balances'
/** Per-account balances, keyed by account id. */
export const accountBalancesStore = 'account-balances'

export type { AccountEvent }

/** The read model of one account. */
export interface AccountBalance {
  readonly accountId: string
  /** Deposits minus withdrawals, in the events' unit (integers stay exact). */
  readonly balance: number
  /** Whether the account was closed (it then refuses deposits and withdrawals, not refunds). */
  readonly closed: boolean
  /** The version of the last event applied (1 for the account's first event). */
  readonly version: number
  /** Epoch ms of the record that carried the last event applied. */
  readonly updatedAt?: number
}

/**
 * The balance after `stored`, or undefined when the event is already applied (version ≤ the
 * entry's version) and must be ignored. Pure, for tests.
 */
export function applyAccountEvent(current: AccountBalance | undefined, accountId: string,
  stored: StoredEvent<AccountEvent>, timestamp?: number): AccountBalance | undefined {
  if (current !== undefined && stored.version <= current.version) return undefined
  const { event } = stored
  return { accountId, balance: (current?.balance ?? 0) + balanceChange(event),
    closed: (current?.closed ?? false) || event.type === 'closed', version: stored.version,
    ...(timestamp === undefined ? {} : { updatedAt: timestamp }) }
}

/**
 * The projection's topology.
 * @example
 * await weir.admin().createTopics(accountBalancesTopics(3))
 * const app = await accountBalances().start({ weir, stateDir: './state' })
 * await app.caughtUp()
 * await app.query<AccountBalance>(accountBalancesStore).get('acc-1')
 */
export function accountBalances(appId = 'account-balances'): Topology {
  const t = topology(appId)
  t.stream<StoredEvent<AccountEvent>>(accountEventsTopic).pipe(
    process<StoredEvent<AccountEvent>, AccountBalance>({
      process(stored, context) {
        const accountId = context.record.key
        // The per-account version check is only sound if every event of an account reaches
        // this task: the aggregate task writes them keyed by account id.
        if (typeof accountId !== 'string') {
          throw new Error(`${accountEventsTopic} must be keyed by account id; a record at `
            + `offset ${context.record.offset} has key ${String(accountId)}`)
        }
        const balances = context.store<string, AccountBalance>(accountBalancesStore)
        const next = applyAccountEvent(balances.get(accountId), accountId, stored,
          context.record.timestamp)
        if (next === undefined) return
        balances.put(accountId, next)
        context.forward(next)
      },
    }, { stores: [{ store: accountBalancesStore }] }),
  ).to(accountBalancesTopic)
  return t
}

/** The topics the projection reads and writes (the balances topic is compacted). */
export function accountBalancesTopics(partitions = 3): CreateTopicRequest[] {
  // The events topic as the aggregate creates it (kept forever): whichever app creates it first
  // decides its retention, and a projection must not be the one that loses events.
  const events = aggregateTopics(accountType, partitions)
    .filter(request => request.topic === accountEventsTopic)
  return [...events,
    { topic: accountBalancesTopic, partitions, config: { cleanupPolicy: 'compact' } }]
}
