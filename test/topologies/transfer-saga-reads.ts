/**
 * What the transfer saga's tests read and write: its outcomes and the accounts' events as
 * read_committed readers see them, and a transfer request record.
 */
import { eventsTopic, type StoredEvent, type Weir } from '../../src/index.ts'
import { type AccountEvent, accountType } from '../../topologies/accounts.ts'
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
