/**
 * A test-only `Transport` over a child process's IPC channel, so that app instances in child
 * processes can share the broker embedded in the test process (Weir has no network server yet).
 * The parent calls `serveTransportOverIpc(child, transport)`; the child builds
 * `new Weir(new IpcTransport())`.
 *
 * Wire: the child sends `{ type: 'weir-transport', id, method, args }`; the parent calls
 * `transport[method](...args)` and replies `{ type: 'weir-transport', id, result }` or
 * `{ type: 'weir-transport', id, error: { code, message, retriable } }`. Other messages on the
 * channel (the test's own protocol) are left alone. The channel must use
 * `serialization: 'advanced'` (structured clone): Buffers then cross as Uint8Arrays, which
 * `fromWire` turns back into Buffers on both sides, since callers use Buffer methods on keys,
 * values, fetched bytes and group metadata.
 *
 * Structured clone keeps an Error's message but drops its own fields (`code`), so WeirErrors
 * anywhere in a value (a FetchResult carries per-partition `error`s) are replaced by a tagged
 * object and rebuilt by code on the other side. No Transport method takes a callback or another
 * value structured clone cannot carry; `forwardedMethods` below is checked against the interface
 * by the compiler, so a method added to Transport fails typechecking here until it is listed.
 *
 * `close()` is not forwarded: the broker belongs to the parent, and a child closing its Weir must
 * not close it. The child's transport only stops accepting calls. Calls in flight when the
 * parent disconnects reject with WEIR_ERR_CLIENT_CLOSED; replies to a child that has died are
 * dropped, as a network drops them — the requests themselves may still be applied.
 */
import type { ChildProcess } from 'node:child_process'
import { errorCodes, type ErrorCode, WeirError } from '../../src/errors.ts'
import type { Transport } from '../../src/client/transport/transport.ts'

const MESSAGE_TYPE = 'weir-transport'

const forwardedMethods = [
  'createTopics', 'deleteTopics', 'createPartitions', 'listTopics', 'describeTopics', 'produce',
  'fetch', 'listOffsets', 'initProducerId', 'addPartitionsToTxn', 'addOffsetsToTxn',
  'txnOffsetCommit', 'endTxn', 'describeTransactions', 'listTransactions', 'joinGroup',
  'syncGroup', 'heartbeat', 'leaveGroup', 'commitOffsets', 'fetchOffsets', 'listGroups',
  'describeGroup', 'resetOffsets', 'deleteGroups',
] as const satisfies ReadonlyArray<keyof Transport>

type ForwardedMethod = (typeof forwardedMethods)[number]
/** Every Transport method is forwarded except `close` (compile-time check). */
type Unforwarded = Exclude<keyof Transport, ForwardedMethod | 'close'>
const everyMethodForwarded: [Unforwarded] extends [never] ? true : Unforwarded = true
void everyMethodForwarded

interface WireError {
  readonly code?: string
  readonly message: string
  readonly retriable?: boolean
  readonly name?: string
}

interface TransportRequest {
  readonly type: typeof MESSAGE_TYPE
  readonly id: number
  readonly method: ForwardedMethod
  readonly args: unknown[]
}

type TransportReply =
  | { readonly type: typeof MESSAGE_TYPE, readonly id: number, readonly result: unknown }
  | { readonly type: typeof MESSAGE_TYPE, readonly id: number, readonly error: WireError }

const ERROR_TAG = '__weirWireError'

function isTagged(message: unknown): message is { type: string, id: number } {
  return typeof message === 'object' && message !== null
    && (message as { type?: unknown }).type === MESSAGE_TYPE
    && typeof (message as { id?: unknown }).id === 'number'
}

function wireError(error: unknown): WireError {
  if (WeirError.is(error)) {
    return { code: error.code, message: error.message, retriable: error.retriable }
  }
  if (error instanceof Error) return { name: error.name, message: error.message }
  return { message: String(error) }
}

function rebuildError(error: WireError): Error {
  if (error.code !== undefined && (errorCodes as readonly string[]).includes(error.code)) {
    return new WeirError(error.code as ErrorCode, error.message)
  }
  const rebuilt = new Error(error.message)
  if (error.name !== undefined) rebuilt.name = error.name
  return rebuilt
}

const isPlainObject = (value: object): boolean => {
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** What is sent: WeirErrors (anywhere) replaced by tagged objects; the rest as is. */
export function toWire(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Uint8Array) return value
  if (value instanceof Error) return { [ERROR_TAG]: wireError(value) }
  if (Array.isArray(value)) return value.map(toWire)
  if (!isPlainObject(value)) return value
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toWire(item)]))
}

/** What was received: Uint8Arrays back to Buffers, tagged errors back to WeirErrors. */
export function fromWire(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  }
  if (Array.isArray(value)) return value.map(fromWire)
  if (!isPlainObject(value)) return value
  const tagged = (value as { [ERROR_TAG]?: WireError })[ERROR_TAG]
  if (tagged !== undefined) return rebuildError(tagged)
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fromWire(item)]))
}

/**
 * The parent's side: answers the child's transport requests with `transport`. Returns a function
 * that stops serving (the child's later requests are ignored).
 */
export function serveTransportOverIpc(child: ChildProcess, transport: Transport): () => void {
  const reply = (message: TransportReply): void => {
    if (!child.connected) return // the child died: the reply is lost, as on a network
    child.send(message, error => {
      if (error !== null && error !== undefined && child.connected) {
        process.stderr.write(`ipc-transport: reply ${message.id} not sent: ${error.message}\n`)
      }
    })
  }
  const onMessage = (message: unknown): void => {
    if (!isTagged(message)) return
    const { id, method, args } = message as TransportRequest
    if (!(forwardedMethods as readonly string[]).includes(method) || !Array.isArray(args)) {
      reply({ type: MESSAGE_TYPE, id, error: { code: 'INVALID_REQUEST',
        message: `ipc-transport: no forwarded Transport method '${String(method)}'.` } })
      return
    }
    const call = transport[method] as (...callArgs: unknown[]) => Promise<unknown>
    Promise.resolve()
      .then(() => call.apply(transport, args.map(fromWire)))
      .then(result => reply({ type: MESSAGE_TYPE, id, result: toWire(result) }),
        (error: unknown) => reply({ type: MESSAGE_TYPE, id, error: wireError(error) }))
  }
  child.on('message', onMessage)
  return () => {
    child.off('message', onMessage)
  }
}

interface Pending {
  resolve(value: unknown): void
  reject(error: unknown): void
}

/** The child's side: a Transport whose every call goes to the parent over `process.send`. */
export class IpcTransport implements Transport {
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  private closed = false

  constructor() {
    if (process.send === undefined) {
      throw new Error('IpcTransport needs an IPC channel: fork the process with one.')
    }
    process.on('message', this.onMessage)
    process.on('disconnect', this.onDisconnect)
  }

  private readonly onMessage = (message: unknown): void => {
    if (!isTagged(message)) return
    const pending = this.pending.get(message.id)
    if (pending === undefined) return
    this.pending.delete(message.id)
    const reply = message as TransportReply
    if ('error' in reply) pending.reject(rebuildError(reply.error))
    else pending.resolve(fromWire(reply.result))
  }

  private readonly onDisconnect = (): void => {
    this.rejectPending('the parent (broker) disconnected')
    this.closed = true
  }

  private rejectPending(why: string): void {
    for (const pending of this.pending.values()) {
      pending.reject(new WeirError('WEIR_ERR_CLIENT_CLOSED', `ipc-transport: ${why}.`))
    }
    this.pending.clear()
  }

  private call<M extends ForwardedMethod>(method: M, ...args: Parameters<Transport[M]>):
  ReturnType<Transport[M]> {
    return new Promise((resolve, reject) => {
      if (this.closed || process.send === undefined || !process.connected) {
        reject(new WeirError('WEIR_ERR_CLIENT_CLOSED',
          `ipc-transport: ${method} after the transport closed.`))
        return
      }
      const id = this.nextId++
      this.pending.set(id, { resolve, reject })
      const request: TransportRequest = { type: MESSAGE_TYPE, id, method,
        args: args.map(toWire) }
      process.send(request, (error: Error | null) => {
        if (error === null || error === undefined) return
        this.pending.delete(id)
        reject(new WeirError('WEIR_ERR_CLIENT_CLOSED',
          `ipc-transport: ${method} not sent: ${error.message}`))
      })
    }) as ReturnType<Transport[M]>
  }

  createTopics(...args: Parameters<Transport['createTopics']>) {
    return this.call('createTopics', ...args)
  }

  deleteTopics(...args: Parameters<Transport['deleteTopics']>) {
    return this.call('deleteTopics', ...args)
  }

  createPartitions(...args: Parameters<Transport['createPartitions']>) {
    return this.call('createPartitions', ...args)
  }

  listTopics(...args: Parameters<Transport['listTopics']>) {
    return this.call('listTopics', ...args)
  }

  describeTopics(...args: Parameters<Transport['describeTopics']>) {
    return this.call('describeTopics', ...args)
  }

  produce(...args: Parameters<Transport['produce']>) {
    return this.call('produce', ...args)
  }

  fetch(...args: Parameters<Transport['fetch']>) {
    return this.call('fetch', ...args)
  }

  listOffsets(...args: Parameters<Transport['listOffsets']>) {
    return this.call('listOffsets', ...args)
  }

  initProducerId(...args: Parameters<Transport['initProducerId']>) {
    return this.call('initProducerId', ...args)
  }

  addPartitionsToTxn(...args: Parameters<Transport['addPartitionsToTxn']>) {
    return this.call('addPartitionsToTxn', ...args)
  }

  addOffsetsToTxn(...args: Parameters<Transport['addOffsetsToTxn']>) {
    return this.call('addOffsetsToTxn', ...args)
  }

  txnOffsetCommit(...args: Parameters<Transport['txnOffsetCommit']>) {
    return this.call('txnOffsetCommit', ...args)
  }

  endTxn(...args: Parameters<Transport['endTxn']>) {
    return this.call('endTxn', ...args)
  }

  describeTransactions(...args: Parameters<Transport['describeTransactions']>) {
    return this.call('describeTransactions', ...args)
  }

  listTransactions(...args: Parameters<Transport['listTransactions']>) {
    return this.call('listTransactions', ...args)
  }

  joinGroup(...args: Parameters<Transport['joinGroup']>) {
    return this.call('joinGroup', ...args)
  }

  syncGroup(...args: Parameters<Transport['syncGroup']>) {
    return this.call('syncGroup', ...args)
  }

  heartbeat(...args: Parameters<Transport['heartbeat']>) {
    return this.call('heartbeat', ...args)
  }

  leaveGroup(...args: Parameters<Transport['leaveGroup']>) {
    return this.call('leaveGroup', ...args)
  }

  commitOffsets(...args: Parameters<Transport['commitOffsets']>) {
    return this.call('commitOffsets', ...args)
  }

  fetchOffsets(...args: Parameters<Transport['fetchOffsets']>) {
    return this.call('fetchOffsets', ...args)
  }

  listGroups(...args: Parameters<Transport['listGroups']>) {
    return this.call('listGroups', ...args)
  }

  describeGroup(...args: Parameters<Transport['describeGroup']>) {
    return this.call('describeGroup', ...args)
  }

  resetOffsets(...args: Parameters<Transport['resetOffsets']>) {
    return this.call('resetOffsets', ...args)
  }

  deleteGroups(...args: Parameters<Transport['deleteGroups']>) {
    return this.call('deleteGroups', ...args)
  }

  /**
   * Stops accepting calls and fails those still waiting; the parent's broker stays open (see the
   * header). Without its listeners the IPC channel no longer keeps the child alive.
   */
  async close(): Promise<void> {
    this.closed = true
    this.rejectPending('the transport closed')
    process.off('message', this.onMessage)
    process.off('disconnect', this.onDisconnect)
  }
}
