/**
 * Foreign-key table–table joins (Kafka Streams' KTable#join / #leftJoin with a foreign-key
 * extractor, KIP-213): each left row is joined with the right row whose key its value names. The
 * result is a table keyed like the left one, kept in the store `options.store`: for a left row
 * whose foreign key (FK) has a right row, joiner(left, right); for the left join also
 * joiner(left, null) when it has none (or its FK is null). A row leaving the result emits null.
 *
 * The tables need not be co-partitioned. As in Kafka, the left side sends subscriptions through
 * a topic partitioned like the right table, and the right side answers through a topic
 * partitioned like the left one:
 *
 *   sub-topology A (left table, response topic)   sub-topology B (right table, registrations)
 *   left update ─ subscribe ─▶ <store>-subscription-registration (by FK) ─▶ register ─┐
 *                                                    right update ─▶ fan out ─────────┤
 *   resolve ◀─ <store>-subscription-response (by left key) ◀──────────────────────────┘
 *   left update (a delete, a null FK) ─▶ resolve locally
 *
 * - The left side remembers each row's FK (`<store>-foreign-keys`, Kafka reads the old value
 *   instead) so that a row whose FK changes or goes away unsubscribes from the old one.
 * - The right side keeps one entry per FK (`<store>-subscriptions`) mapping each subscribed left
 *   key to the hash of the left value that subscribed (Kafka keeps one entry per FK + key and
 *   prefix-scans; a TaskStore has point reads only). A subscription is answered at once with
 *   the FK's current right value; a right update is answered to every subscriber.
 * - A response carries the hash it answers. The left side resolves it against the left table's
 *   current value and drops it when the hashes differ (Kafka's
 *   SubscriptionResolverJoinProcessorSupplier): the row changed since, and the answer to its
 *   newer subscription is on its way. This is what makes the result converge although answers
 *   from an old and a new FK arrive in any order. It also keeps a subscription the right side
 *   has not yet removed from reaching the result: unsubscribing only frees state.
 * - A left delete, and a left row with a null FK, are resolved locally, at once.
 *
 * Consistency: eventual, as in Kafka. Once every topic is read, the result equals the join of
 * the final tables; in between a left update is visible after its round trip.
 *
 * Not done: Kafka routes a response to the left row's original partition (it carries it in the
 * subscription); here the response topic is partitioned by the left key's hash under the left
 * table's key serde, which is where a table read from a keyed topic keeps the key. Versioned
 * tables (KIP-914) and the one-entry-per-subscriber store are left out; an FK's entry grows with
 * the number of its left rows.
 */
import { createHash } from 'node:crypto'
import type { OperatorFunction } from 'rxjs'
import { WeirError } from '../../errors.ts'
import { KStream, KTable } from '../kstream.ts'
import { type StoreSpec, tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord, withRecord } from '../processing-context.ts'
import { json, type Serde } from '../serdes.ts'
import { storeSpec } from '../operators/store-internals.ts'
import type { TaskStore } from '../runtime/task-store.ts'

export type ForeignKeyJoinKind = 'inner' | 'left'

export interface ForeignKeyJoinOptions<J> {
  /**
   * The result table's store (queryable); also prefixes the join's internal stores and topics:
   * `<store>-foreign-keys`, `<store>-subscriptions`, `<store>-subscription-registration` and
   * `<store>-subscription-response`.
   */
  readonly store: string
  /** How the result's values are stored; JSON by default. */
  readonly serde?: Serde<J>
  /** How the result's keys are stored; the left table's key serde by default. */
  readonly keySerde?: Serde<unknown>
}

/** Left → right, keyed by the FK (Kafka's SubscriptionWrapper). */
interface Subscription {
  /** The left key as its serde's bytes, base64: the subscription store keeps it as text. */
  readonly key: string
  /** Hash of the left value that subscribes; null unsubscribes (no answer wanted). */
  readonly hash: string | null
}

/** Right → left, keyed by the left key (Kafka's SubscriptionResponseWrapper). */
interface Response {
  /** The hash of the subscription this answers. */
  readonly hash: string
  /** The FK's right value; null when the right table lacks the FK. */
  readonly value: unknown
}

/** A message and the key it is to be sent under. */
interface Addressed<T> {
  readonly to: unknown
  readonly message: T
}

/** Left keys (base64) → hash of the left value subscribed. */
type Subscribers = Readonly<Record<string, string>>

type AnyOperator = OperatorFunction<unknown, unknown>

/** What the stages share: the tables' stores and serdes, the join's stores, the user code. */
interface Plan {
  readonly kind: ForeignKeyJoinKind
  readonly leftStore: string
  readonly rightStore: string
  readonly leftKeys: Serde<unknown>
  readonly leftValues: Serde<unknown>
  readonly rightKeys: Serde<unknown>
  readonly rightValues: Serde<unknown>
  readonly foreignKeys: StoreSpec
  readonly subscriptions: StoreSpec
  readonly result: StoreSpec
  readonly foreignKey: (leftValue: unknown) => unknown
  readonly joiner: (left: unknown, right: unknown) => unknown
}

/**
 * The foreign-key join of `left` with `right` (see the file header).
 * @throws WEIR_ERR_STREAMS_TOPOLOGY for tables of two topologies or a store name taken
 */
export function joinOnForeignKey<L, R, J, FK, K>(kind: ForeignKeyJoinKind,
  left: KTable<L, K>, right: KTable<R, FK>, foreignKey: (leftValue: L) => FK | null,
  joiner: (left: L, right: R | null) => J, options: ForeignKeyJoinOptions<J>): KTable<J, K> {
  const topology = left.topology
  if (right.topology !== topology) {
    throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `The tables of store ${left.store} and `
      + `${right.store} belong to two topologies; join tables of one topology.`)
  }
  const plan = planOf(kind, left, right, options,
    foreignKey as (leftValue: unknown) => unknown,
    joiner as (left: unknown, right: unknown) => unknown)
  const leftUpdates = left.toStream().node
  const registered = topology.pipeNode(leftUpdates, [subscribe(plan),
    sendBy(`${options.store}-subscription-registration`, plan.rightKeys, json())])
  const answered = topology.joinNode(registered, [register(plan)], right.toStream().node,
    [fanOut(plan)])
  const responses = topology.pipeNode(answered, [sendBy(`${options.store}-subscription-response`,
    plan.leftKeys, responseSerde(plan.rightValues))])
  const resolved = topology.joinNode(responses, [resolveResponse(plan)], leftUpdates,
    [resolveLocally(plan)])
  return new KTable(new KStream<J | null, K>(topology, resolved) as KStream<J, K>,
    plan.result.name)
}

function planOf<L, R, J, FK, K>(kind: ForeignKeyJoinKind, left: KTable<L, K>,
  right: KTable<R, FK>, options: ForeignKeyJoinOptions<J>,
  foreignKey: Plan['foreignKey'], joiner: Plan['joiner']): Plan {
  const tableSpec = (table: KTable<unknown, unknown>): StoreSpec => {
    const declared = table.topology.stores.get(table.store)
    if (declared === undefined) {
      throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `foreignKeyJoin() reads the table of store `
        + `'${table.store}', which no operator declares.`)
    }
    return declared.spec
  }
  const leftSpec = tableSpec(left as KTable<unknown, unknown>)
  const rightSpec = tableSpec(right as KTable<unknown, unknown>)
  const result = storeSpec('foreignKeyJoin', { ...options,
    keySerde: options.keySerde ?? leftSpec.keySerde })
  return {
    kind, foreignKey, joiner, result,
    leftStore: leftSpec.name, rightStore: rightSpec.name,
    leftKeys: leftSpec.keySerde, leftValues: leftSpec.valueSerde,
    rightKeys: rightSpec.keySerde, rightValues: rightSpec.valueSerde,
    // The FK is stored with the right table's key serde, the serde that partitions it.
    foreignKeys: storeSpec('foreignKeyJoin', { store: `${options.store}-foreign-keys`,
      keySerde: leftSpec.keySerde, serde: rightSpec.keySerde }),
    subscriptions: storeSpec('foreignKeyJoin', { store: `${options.store}-subscriptions`,
      keySerde: rightSpec.keySerde }),
  }
}

/**
 * Left side: per left update, an unsubscribe from the row's old FK when it changed or went away
 * (compared as serialized keys, as Kafka does) and a subscription to its new FK, if any.
 */
function subscribe(plan: Plan): AnyOperator {
  const name = 'foreignKeyJoin (subscribe)'
  return tagOperator({ kind: 'stateful', name, stores: [plan.foreignKeys] },
    operate<unknown, Addressed<Subscription>>(name, (subscriber, host) => {
      const foreignKeys = host.store(plan.foreignKeys.name)
      return value => {
        const { key } = currentRecord(name)
        if (key === null || key === undefined) return
        const next = value === null ? null : plan.foreignKey(value)
        const previous = foreignKeys.get(key)
        const leftKey = plan.leftKeys.serialize(key).toString('base64')
        const same = previous !== undefined && next !== null
          && plan.rightKeys.serialize(previous).equals(plan.rightKeys.serialize(next))
        if (previous !== undefined && !same) {
          subscriber.next({ to: previous, message: { key: leftKey, hash: null } })
        }
        if (next === null) {
          if (previous !== undefined) foreignKeys.delete(key)
          return
        }
        if (!same) foreignKeys.put(key, next)
        subscriber.next({ to: next,
          message: { key: leftKey, hash: valueHash(plan.leftValues, value) } })
      }
    })) as AnyOperator
}

/**
 * Right side, subscriptions: records or removes the subscriber, and answers a subscription with
 * the FK's current right value.
 */
function register(plan: Plan): AnyOperator {
  const name = 'foreignKeyJoin (register)'
  return tagOperator({ kind: 'stateful', name, stores: [plan.subscriptions] },
    operate<Subscription, Addressed<Response>>(name, (subscriber, host) => {
      const subscriptions = host.store(plan.subscriptions.name)
      const rightTable = host.store(plan.rightStore)
      return ({ key: leftKey, hash }) => {
        const { key } = currentRecord(name)
        // A copy: the store caches the object it returns, and hands it out again.
        const subscribers: Record<string, string> =
          { ...subscriptions.get(key) as Subscribers | undefined }
        if (hash === null) {
          delete subscribers[leftKey]
          if (Object.keys(subscribers).length === 0) subscriptions.delete(key)
          else subscriptions.put(key, subscribers)
          return
        }
        subscribers[leftKey] = hash
        subscriptions.put(key, subscribers)
        subscriber.next({ to: decodeKey(plan, leftKey),
          message: { hash, value: rightTable.get(key) ?? null } })
      }
    })) as AnyOperator
}

/** Right side, right updates: the new value (null: deleted) to every subscriber of the FK. */
function fanOut(plan: Plan): AnyOperator {
  const name = 'foreignKeyJoin (fan out)'
  return tagOperator({ kind: 'stateful', name, stores: [] },
    operate<unknown, Addressed<Response>>(name, (subscriber, host) => {
      const subscriptions = host.store(plan.subscriptions.name)
      return value => {
        const { key } = currentRecord(name)
        if (key === null || key === undefined) return
        const subscribers = subscriptions.get(key) as Subscribers | undefined
        for (const [leftKey, hash] of Object.entries(subscribers ?? {})) {
          subscriber.next({ to: decodeKey(plan, leftKey), message: { hash, value } })
        }
      }
    })) as AnyOperator
}

/** Left side, responses: joins the current left row, unless it changed since (stale hash). */
function resolveResponse(plan: Plan): AnyOperator {
  const name = 'foreignKeyJoin (resolve)'
  return tagOperator({ kind: 'stateful', name, stores: [plan.result] },
    operate<Response, unknown>(name, (subscriber, host) => {
      const leftTable = host.store(plan.leftStore)
      const result = host.store(plan.result.name)
      return ({ hash, value }) => {
        const { key } = currentRecord(name)
        const current = leftTable.get(key)
        if (current === undefined || valueHash(plan.leftValues, current) !== hash) return
        emitResult(plan, result, key, current, value, joined => subscriber.next(joined))
      }
    })) as AnyOperator
}

/**
 * Left side, left updates that need no answer: a delete leaves the result; a null FK leaves it
 * (inner) or joins null (left). Other updates wait for their subscription's answer.
 */
function resolveLocally(plan: Plan): AnyOperator {
  const name = 'foreignKeyJoin (resolve left)'
  return tagOperator({ kind: 'stateful', name, stores: [] },
    operate<unknown, unknown>(name, (subscriber, host) => {
      const result = host.store(plan.result.name)
      return value => {
        const { key } = currentRecord(name)
        if (key === null || key === undefined) return
        if (value !== null && plan.foreignKey(value) !== null) return
        emitResult(plan, result, key, value, null, joined => subscriber.next(joined))
      }
    })) as AnyOperator
}

/** Stores and emits the join of `leftValue` (null: deleted) and `rightValue`, or its absence. */
function emitResult(plan: Plan, result: TaskStore, key: unknown, leftValue: unknown,
  rightValue: unknown, emit: (joined: unknown) => void): void {
  if (leftValue !== null && (rightValue !== null || plan.kind === 'left')) {
    const joined = plan.joiner(leftValue, rightValue)
    result.put(key, joined)
    emit(joined)
  } else if (result.get(key) !== undefined) {
    result.delete(key)
    emit(null)
  }
}

/**
 * Sends each message under its key through the repartition topic `<appId>-<name>-repartition`,
 * written and read with `keySerde` and `serde`: tagged as a groupBy, which is how a topology
 * learns that the key changed and where to repartition (topology.ts).
 */
function sendBy<T>(name: string, keySerde: Serde<unknown>, serde: Serde<T>): AnyOperator {
  return tagOperator({ kind: 'group-by', name, keySerde,
    valueSerde: serde as Serde<unknown> },
  operate<Addressed<T>, T>('foreignKeyJoin (send)', subscriber => ({ to, message }) => {
    const record = currentRecord('foreignKeyJoin (send)')
    withRecord({ ...record, key: to }, () => subscriber.next(message))
  })) as AnyOperator
}

/** Responses as JSON, the right value as its serde's bytes in base64. */
function responseSerde(rightValues: Serde<unknown>): Serde<Response> {
  const framing = json<{ hash: string, value: string | null }>()
  return {
    name: `foreign-key join response of ${rightValues.name}`,
    serialize: ({ hash, value }) => framing.serialize({ hash,
      value: value === null ? null : rightValues.serialize(value).toString('base64') }),
    deserialize: bytes => {
      const { hash, value } = framing.deserialize(bytes)
      return { hash,
        value: value === null ? null : rightValues.deserialize(Buffer.from(value, 'base64')) }
    },
  }
}

function decodeKey(plan: Plan, leftKey: string): unknown {
  return plan.leftKeys.deserialize(Buffer.from(leftKey, 'base64'))
}

/** 128 bits of SHA-256 of the value's bytes (Kafka hashes them with murmur3-128). */
function valueHash(serde: Serde<unknown>, value: unknown): string {
  return createHash('sha256').update(serde.serialize(value)).digest().subarray(0, 16)
    .toString('base64')
}
