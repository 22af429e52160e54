/**
 * A deliberately broken topology, kept to show that Weir's test kit (`weir/testing`) catches
 * what example-based tests miss. It numbers each key's events — but keeps the numbers in a
 * plain Map in the process instead of a state store. The Map is outside the transaction: when
 * an instance crashes after counting and before committing, the events are processed again and
 * counted twice (a gap in the numbers), and when it restarts the Map is empty (numbers start
 * over: duplicates). Every example-based test without faults passes.
 *
 * The fix is a state store: `count({ store: 'numbers' })` (or `process` with a store), whose
 * writes commit with the outputs and the consumed offsets.
 *
 * test/testing/broken-example.test.ts finds a failing fault schedule with `simulate` and
 * `faultSchedules`, and prints its seed.
 */
import { map } from 'rxjs'
import { topology, type Topology } from '../../src/index.ts'

export function brokenCounter(appId = 'broken-counter'): Topology {
  const numbers = new Map<string, number>() // the bug: state outside the transaction
  const t = topology(appId)
  t.stream<string>('events').pipe(map(key => {
    const next = (numbers.get(key) ?? 0) + 1
    numbers.set(key, next)
    return next
  })).to('numbered')
  return t
}
