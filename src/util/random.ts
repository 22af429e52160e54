/**
 * Randomness comes from here (STYLE.md: `Math.random` and friends live in util/), so a seeded
 * source can replace it in simulations.
 */
import { randomBytes } from 'node:crypto'

export type Random = () => number

export const systemRandom: Random = Math.random

/** A random unsigned 32-bit integer from the OS's cryptographic source. */
export function randomUint32(): number {
  return randomBytes(4).readUInt32BE(0)
}

/** A short random identifier (16 hex digits) for ids that must not repeat across restarts. */
export function randomId(): string {
  return randomBytes(8).toString('hex')
}
