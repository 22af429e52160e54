/**
 * WebSocket /v1/rpc: the remote client's data channel. Produce and fetch calls arrive as
 * RpcRequest frames (proto/weir.proto) and are answered with RpcResponse frames carrying the
 * same id, each as soon as it is ready: a fetch may long-poll while produces behind it are
 * answered. One frame each way instead of an HTTP request costs both ends about half the CPU
 * (bench/README.md), which is what publish → consume latency at a few thousand sends a second is
 * made of.
 *
 * Frames are handled in the order they arrive, and a produce call reaches the broker before the
 * next frame is read (the whole-request check awaits only to create a topic), so batches of one
 * partition are appended in the order the client sent them. Calls use the same handlers, checks
 * and limits as POST /v1/produce and /v1/fetch; a refused call is answered with an error frame
 * and the connection stays. A frame that is not an RpcRequest closes the connection with 1008.
 *
 * At most `rpcInFlightMax` calls of one connection run at once; beyond that the server stops
 * reading the socket until one finishes, so TCP back-pressure bounds what a client can queue.
 * (`ws` still emits the frames of a chunk it already read: those wait in the session, in order.)
 * Frames that arrive once the server began to close the connection (1008, 1001) are never run.
 * While the server shuts down, new calls are answered WEIR_ERR_SERVER_SHUTTING_DOWN and calls in
 * flight finish (within `shutdownGraceMs`) before the connection is closed with 1001.
 */
import type { FastifyInstance } from 'fastify'
import type { WebSocket } from 'ws'
import { WeirError } from '../../errors.ts'
import {
  decodeRpcRequest, encodeRpcResponse, type RpcCall, type RpcResult,
} from '../../protocol/weir-rpc.ts'
import { asWeirError, httpStatusOf } from '../http-errors.ts'
import { onBinaryFrames } from './binary-frames.ts'
import { type BinaryRoutesContext, handleFetch, handleProduce } from './binary-routes.ts'

export interface RpcRouteContext extends BinaryRoutesContext {
  /** Whether the server is shutting down (new calls are refused). */
  readonly closing: () => boolean
  /** Errors answered as WEIR_ERR_SERVER_INTERNAL (bugs). */
  readonly onInternalError: (error: unknown) => void
}

class RpcSession {
  private inFlight = 0
  private idle: Array<() => void> = []
  /** Frames read while `rpcInFlightMax` calls run: pausing stops the socket, not `ws`' parser. */
  private readonly queued: Buffer[] = []

  constructor(private readonly socket: WebSocket, private readonly context: RpcRouteContext) {}

  receive(data: Buffer): void {
    if (this.socket.readyState !== this.socket.OPEN) return
    if (this.queued.length > 0 || this.inFlight >= this.context.limits.rpcInFlightMax) {
      this.queued.push(data)
      return
    }
    this.handle(data)
  }

  /** Handles queued frames while calls may start; reads the socket again once they are done. */
  private dequeue(): void {
    const { rpcInFlightMax } = this.context.limits
    const open = (): boolean => this.socket.readyState === this.socket.OPEN
    while (this.queued.length > 0 && this.inFlight < rpcInFlightMax && open()) {
      this.handle(this.queued.shift()!)
    }
    if (!open()) this.queued.length = 0
    else if (this.socket.isPaused && this.queued.length === 0 && this.inFlight < rpcInFlightMax) {
      this.socket.resume()
    }
  }

  private handle(data: Buffer): void {
    let frame
    try {
      frame = decodeRpcRequest(data)
    } catch (error) {
      this.socket.close(1008, asWeirError(error).code)
      return
    }
    if ('error' in frame) {
      this.answer(frame.id, { kind: 'error', error: frame.error }, 'invalid', performance.now())
    } else if (this.context.closing()) {
      this.answer(frame.id, { kind: 'error', error: new WeirError('WEIR_ERR_SERVER_SHUTTING_DOWN',
        'The server is shutting down; retry against the restarted server.') },
      frame.call.kind, performance.now())
    } else {
      this.run(frame.id, frame.call)
    }
  }

  /** Resolves once no call is in flight. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve()
    return new Promise(resolve => { this.idle.push(resolve) })
  }

  private run(id: number, call: RpcCall): void {
    const started = performance.now()
    this.inFlight++
    if (this.inFlight >= this.context.limits.rpcInFlightMax) this.socket.pause()
    void this.call(call).then(result => {
      this.answer(id, result, call.kind, started)
      this.inFlight--
      this.dequeue()
      if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve()
    })
  }

  private async call(call: RpcCall): Promise<RpcResult> {
    try {
      return call.kind === 'produce'
        ? { kind: 'produce', results: await handleProduce(call.request, this.context) }
        : { kind: 'fetch', results: await handleFetch(call.request, this.context) }
    } catch (error) {
      const weirError = asWeirError(error)
      if (httpStatusOf(weirError) === 500) this.context.onInternalError(error)
      return { kind: 'error', error: weirError }
    }
  }

  private answer(id: number, result: RpcResult, call: string, started: number): void {
    const { metrics } = this.context
    const status = result.kind === 'error' ? httpStatusOf(result.error) : 200
    metrics.rpcCalls.inc({ call, status: String(status) })
    metrics.rpcCallSeconds.observe((performance.now() - started) / 1000, { call })
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(encodeRpcResponse(id, result))
  }
}

export interface RpcRoute {
  /** Waits (up to `shutdownGraceMs`) for the calls in flight on every connection to finish. */
  drain(): Promise<void>
}

export function registerRpcRoute(app: FastifyInstance, context: RpcRouteContext): RpcRoute {
  const sessions = new Set<RpcSession>()
  app.get('/v1/rpc', { websocket: true }, socket => {
    const session = new RpcSession(socket, context)
    sessions.add(session)
    socket.once('close', () => sessions.delete(session))
    onBinaryFrames(socket, data => { session.receive(data) })
  })
  return {
    async drain() {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all([...sessions].map(session => session.drained())),
        new Promise(resolve => { timer = setTimeout(resolve, context.limits.shutdownGraceMs) }),
      ])
      clearTimeout(timer)
    },
  }
}
