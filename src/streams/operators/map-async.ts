import type { OperatorFunction } from 'rxjs'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord, withHost, withRecord } from '../processing-context.ts'

/**
 * An asynchronous step (a lookup, a call to a service): `work(value)` runs for each record and
 * its result continues down the pipeline with the record's key and timestamp. Results arrive in
 * completion order; the task's commit waits for every pending one, so none is lost or committed
 * past. A rejection is a processing error of that record. Use it instead of RxJS's asynchronous
 * operators, which lose the record's context (WEIR_ERR_STREAMS_ASYNC_EMIT).
 */
export function mapAsync<V, R>(work: (value: V, key: unknown) => Promise<R>):
OperatorFunction<V, R> {
  return tagOperator({ kind: 'stateless', name: 'mapAsync' },
    operate<V, R>('mapAsync', (subscriber, host) => value => {
      const record = currentRecord('mapAsync')
      host.track(work(value, record.key).then(
        result => withHost(host, () => withRecord(record, () => subscriber.next(result))),
        (error: unknown) => withHost(host, () => withRecord(record,
          () => subscriber.error(error)))))
    }))
}
