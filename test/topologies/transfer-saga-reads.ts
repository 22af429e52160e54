/**
 * What the transfer saga's tests read and write: its outcomes and the accounts' events as
 * read_committed readers see them, and a transfer request record.
 */
import { eventsTopic, type StoredEvent, type Weir } from '../../src/index.ts'
import { type AccountEvent, accountType, balanceChange } from '../../topologies/accounts.ts'
import {
  type TransferOutcome, transferOutcomesTopic, type TransferRequested,
} from '../../topologies/transfer-saga.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'

export async function committedOutcomes(weir: Weir, partitions: number): Promise<TransferOutcome[]> {
  const outcomes: TransferOutcome[] = []
  for (let partition = 0; partition < partitions; partition++) {
    for (const record of await readCommitted(weir.transport, transferOutcomesTopic, partition)) {
      outcomes.push(JSON.parse(record.value!.toString()) as TransferOutcome)
    }
  }
  return outcomes
}

/** Every account's committed events, in stream order. */
export async function committedEvents(weir: Weir, partitions: number):
Promise<Map<string, Array<StoredEvent<AccountEvent>>>> {
  const byAccount = new Map<string, Array<StoredEvent<AccountEvent>>>()
  for (let partition = 0; partition < partitions; partition++) {
    for (const record of await readCommitted(weir.transport, eventsTopic(accountType),
      partition)) {
      const id = record.key!.toString()
      byAccount.set(id, [...byAccount.get(id) ?? [],
        JSON.parse(record.value!.toString()) as StoredEvent<AccountEvent>])
    }
  }
  return byAccount
}

export const transferRecord = (transfer: TransferRequested, timestamp?: number) => ({
  key: transfer.transferId, value: JSON.stringify(transfer),
  ...(timestamp === undefined ? {} : { timestamp }) })

/**
 * What the accounts' committed streams show: problems (a version out of 1..n, a request id
 * applied twice, a balance below 0), the total money, and each transfer's movements as
 * JSON `[account, change]` pairs.
 */
export function accountStreams(events: Map<string, Array<StoredEvent<AccountEvent>>>):
{ found: string[], total: number, moved: Map<string, string[]> } {
  const found: string[] = []
  let total = 0
  const requestIds = new Set<string>()
  const moved = new Map<string, string[]>()
  for (const [account, stream] of events) {
    let balance = 0
    stream.forEach(({ version, event, requestId }, i) => {
      if (version !== i + 1) found.push(`${account}: event ${i + 1} has version ${version}`)
      if (requestIds.has(requestId)) found.push(`${requestId} applied twice`)
      requestIds.add(requestId)
      balance += balanceChange(event)
      if (balance < 0) found.push(`${account}: balance ${balance} at version ${version}`)
      if (event.type !== 'closed' && event.transferId !== undefined) {
        moved.set(event.transferId, [...moved.get(event.transferId) ?? [],
          JSON.stringify([account, balanceChange(event)])])
      }
    })
    total += balance
  }
  return { found, total, moved }
}
