import type { OperatorFunction } from 'rxjs'
import { WeirError } from '../../errors.ts'
import { type StoreSpec, tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import {
  currentRecord, type PunctuationType, type RecordContext, withRecord,
} from '../processing-context.ts'
import { type StateStore, type StoreOptions, storeSpec, typedStore } from './store-internals.ts'

/** What a processor sees (Kafka Streams' ProcessorContext). */
export interface ProcessorContext<VOut> {
  readonly taskId: string
  readonly partition: number
  /** The current record's key, timestamp and origin (a punctuation: key undefined, offset -1). */
  readonly record: RecordContext
  /** Max event time the task has seen; -1 before its first record. */
  readonly streamTimeMs: number
  /** A store declared in `stores`. */
  store<K, V>(name: string): StateStore<K, V>
  /** Emits a value downstream, with the current record's key unless `key` is given. */
  forward(value: VOut, options?: { key?: unknown, timestamp?: number }): void
  /**
   * Calls `callback` every `intervalMs` of stream time (advanced by records' timestamps) or of
   * wall-clock time, inside the task's transaction. Returns a function that cancels it.
   */
  schedule(intervalMs: number, type: PunctuationType, callback: (timestampMs: number) => void):
  () => void
}

export interface Processor<V, VOut> {
  /** Called once per task before its first record: schedule punctuators here. */
  init?(context: ProcessorContext<VOut>): void
  process(value: V, context: ProcessorContext<VOut>): void
}

/**
 * A store whose entries expire in stream time (Kafka Streams has no such option; its users
 * delete from a punctuator): once the task's stream time reaches `expiresAtMs(key, value)`
 * (`Infinity`: never), the next sweep deletes the entry through the changelog, so a restore does
 * not bring it back. A sweep reads every key, once per `sweepIntervalMs` of stream time; the
 * store's keys are kept in memory for it. E.g. a saga keeps ended sagas for a day to answer
 * repeated requests, and forgets them after.
 */
export interface StoreExpiryOptions<V> {
  /** A method (not a property) so that a store of typed values fits `stores`. */
  expiresAtMs(key: unknown, value: V): number
  readonly sweepIntervalMs: number
}

export interface ProcessStoreOptions<V> extends StoreOptions<V> {
  readonly expiry?: StoreExpiryOptions<V>
}

export interface ProcessOptions {
  readonly stores?: ReadonlyArray<ProcessStoreOptions<unknown>>
}

function processStoreSpec(options: ProcessStoreOptions<unknown>): StoreSpec {
  const spec = storeSpec('process', options)
  const expiry = options.expiry
  if (expiry === undefined) return spec
  if (typeof expiry.expiresAtMs !== 'function' || !Number.isSafeInteger(expiry.sweepIntervalMs)
    || expiry.sweepIntervalMs < 1) {
    throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `Store ${options.store}: expiry needs an `
      + 'expiresAtMs(key, value) function and a sweepIntervalMs ≥ 1 (ms of stream time).')
  }
  return { ...spec, expiry: { expiresAtMs: (key, value) => expiry.expiresAtMs(key, value),
    sweepIntervalMs: expiry.sweepIntervalMs } }
}

/**
 * The low-level operator: a processor with named stores and punctuators, for what the
 * higher-level operators do not express (Kafka Streams' process()).
 */
export function process<V, VOut>(processor: Processor<V, VOut>, options: ProcessOptions = {}):
OperatorFunction<V, VOut> {
  const specs = (options.stores ?? []).map(processStoreSpec)
  return tagOperator({ kind: 'stateful', name: 'process', stores: specs },
    operate<V, VOut>('process', (subscriber, host) => {
      const punctuation = (timestamp: number): RecordContext => ({ key: undefined, timestamp,
        topic: '', partition: host.partition, offset: -1 })
      const context: ProcessorContext<VOut> = {
        taskId: host.taskId,
        partition: host.partition,
        get record() {
          return currentRecord('process')
        },
        get streamTimeMs() {
          return host.streamTimeMs
        },
        store: <K, SV>(name: string) => {
          if (!specs.some(spec => spec.name === name)) {
            throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `process() used store '${name}' `
              + 'without declaring it; list it in the options: process(p, { stores: [{ store: '
              + `'${name}' }] }).`)
          }
          return typedStore<K, SV>(host.store(name))
        },
        forward(value, forwardOptions = {}) {
          const record = currentRecord('process')
          const next = { ...record,
            ...('key' in forwardOptions ? { key: forwardOptions.key } : {}),
            ...(forwardOptions.timestamp === undefined ? {}
              : { timestamp: forwardOptions.timestamp }) }
          withRecord(next, () => subscriber.next(value))
        },
        schedule: (intervalMs, type, callback) => host.schedule({ type, intervalMs,
          callback: timestamp => withRecord(punctuation(timestamp), () => callback(timestamp)) }),
      }
      processor.init?.(context)
      return value => processor.process(value, context)
    }))
}
