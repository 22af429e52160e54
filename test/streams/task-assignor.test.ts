import { fc, test } from '@fast-check/vitest'
import { expect } from 'vitest'
import type { AssignorMember, TopicPartition } from '../../src/index.ts'
import { taskAssignor } from '../../src/streams/runtime/task-assignor.ts'
import { numRuns } from '../helpers/num-runs.ts'

// sub-topology 0 reads a and b (co-partitioned, 4 partitions); 1 reads r (2 partitions)
const subOf = new Map([['a', 0], ['b', 0], ['r', 1]])
const counts = new Map([['a', 4], ['b', 4], ['r', 2]])
const allPartitions: TopicPartition[] = [...counts].flatMap(([topic, n]) =>
  Array.from({ length: n }, (_, partition) => ({ topic, partition })))
const task = (tp: TopicPartition) => `${subOf.get(tp.topic)}_${tp.partition}`

const membersArbitrary = fc.integer({ min: 1, max: 4 }).chain(size => fc.tuple(
  fc.constant(size),
  fc.array(fc.integer({ min: 0, max: size }), { minLength: allPartitions.length,
    maxLength: allPartitions.length })))

test.prop([membersArbitrary], { numRuns: numRuns(200) })(
  'every partition of a task goes to one member, and no member gets what another still owns',
  ([size, owners]) => {
    // owners[i] = index of the member owning partition i by task (size = nobody)
    const ownerOfTask = new Map<string, number>()
    allPartitions.forEach((tp, i) => {
      if (!ownerOfTask.has(task(tp))) ownerOfTask.set(task(tp), owners[i]!)
    })
    const members: AssignorMember[] = Array.from({ length: size }, (_, m) => ({
      memberId: `m${m}`, topics: ['a', 'b', 'r'],
      ownedPartitions: allPartitions.filter(tp => ownerOfTask.get(task(tp)) === m) }))
    const result = taskAssignor(subOf).assign(members, counts)
    const holder = new Map<string, string>()
    for (const [memberId, partitions] of result) {
      for (const tp of partitions) {
        const previous = holder.get(task(tp))
        expect(previous === undefined || previous === memberId).toBe(true)
        holder.set(task(tp), memberId)
        const owner = ownerOfTask.get(task(tp))!
        expect(owner === size || `m${owner}` === memberId).toBe(true)
      }
      // whole tasks only
      for (const tp of partitions) {
        const siblings = allPartitions.filter(other => task(other) === task(tp))
        expect(siblings.every(s => partitions.some(p => p.topic === s.topic
          && p.partition === s.partition))).toBe(true)
      }
    }
  })

test('with nothing owned, tasks are spread evenly', () => {
  const members = ['m0', 'm1', 'm2'].map(memberId => ({ memberId, topics: ['a', 'b', 'r'],
    ownedPartitions: [] }))
  const result = taskAssignor(subOf).assign(members, counts)
  const tasksPerMember = [...result.values()].map(ps => new Set(ps.map(task)).size)
  expect(tasksPerMember.sort()).toEqual([2, 2, 2])
})
