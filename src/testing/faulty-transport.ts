/**
 * A client transport that delays or duplicates one request of a chosen API, for the
 * simulation's `delay-request` and `duplicate-request` faults: what a network that retransmits
 * or holds a packet does to a client. Each armed fault hits the next call of its API once.
 *
 * A duplicate is sent right after the original, with the same arguments; the caller gets the
 * original's answer, and the duplicate's answer or error is dropped — the broker must make the
 * second a no-op (idempotent produce, repeated commits, a stale EndTxn fenced).
 */
import type { Transport } from '../client/transport/transport.ts'
import type { FaultApi } from './model.ts'

type Armed = { kind: 'delay', delayMs: number } | { kind: 'duplicate' }

export interface FaultyTransport {
  readonly transport: Transport
  /** Makes the next call of `api` late by `delayMs` or sent twice. */
  arm(api: FaultApi, fault: Armed): void
  /** Faults armed and not yet hit. */
  pending(): number
}

export function faultyTransport(inner: Transport): FaultyTransport {
  const armed = new Map<FaultApi, Armed[]>()
  const hit = (api: string): Armed | undefined => {
    const queue = armed.get(api as FaultApi)
    return queue?.shift()
  }
  const transport = new Proxy(inner, {
    get(target, property, receiver) {
      const original: unknown = Reflect.get(target, property, receiver)
      if (typeof original !== 'function' || typeof property !== 'string') return original
      const method = original as (...args: unknown[]) => Promise<unknown>
      return async (...args: unknown[]): Promise<unknown> => {
        const fault = hit(property)
        if (fault?.kind === 'delay') {
          await new Promise(resolve => setTimeout(resolve, fault.delayMs))
        }
        const first = method.apply(target, args)
        if (fault?.kind === 'duplicate') {
          // Sent before the original is answered, as a retransmission would be.
          void method.apply(target, args).catch(() => undefined)
        }
        return first
      }
    },
  })
  return {
    transport,
    arm(api, fault) {
      armed.set(api, [...armed.get(api) ?? [], fault])
    },
    pending: () => [...armed.values()].reduce((sum, queue) => sum + queue.length, 0),
  }
}
