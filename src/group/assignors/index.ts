/**
 * The partition assignors Weir ships, by the name a member lists in its JoinGroup protocols
 * (Kafka's `partition.assignment.strategy` names). The group coordinator picks the assignor
 * every member supports; a name it does not know here is one the group cannot use.
 */
import { assert } from '../../util/assert.ts'
import type { Assignor } from '../assignor.ts'
import { cooperativeStickyAssignor } from './cooperative-sticky.ts'
import { rangeAssignor } from './range.ts'
import { roundRobinAssignor } from './round-robin.ts'

/** Every shipped assignor, keyed by its protocol name. */
export const assignors: ReadonlyMap<string, Assignor> = new Map(
  [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor]
    .map(assignor => [assignor.name, assignor] as const),
)

assert(assignors.size === 3, 'assignor names are distinct')
assert(['range', 'roundrobin', 'cooperative-sticky'].every(name => assignors.has(name)),
  'assignors are registered under Kafka\'s strategy names')

/** The assignor called `name` (e.g. `'cooperative-sticky'`), or undefined if Weir has none. */
export function assignorByName(name: string): Assignor | undefined {
  return assignors.get(name)
}
