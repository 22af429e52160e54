/**
 * Goal: the group state table is the single source of legal transitions, with stable distinct
 * ids and a doc per state. Method: check every ordered pair of states against the table.
 */
import { describe, expect, it } from 'vitest'
import { assertTransition, type GroupState, groupStates } from '../../src/group/group-state.ts'
import { AssertionError } from '../../src/util/assert.ts'

const states = Object.keys(groupStates) as GroupState[]

describe('group state table', () => {
  it('ids are distinct and fixed, and every state documents its action and transition', () => {
    expect(Object.fromEntries(states.map(state => [state, groupStates[state].id]))).toEqual({
      Empty: 0, PreparingRebalance: 1, CompletingRebalance: 2, Stable: 3, Dead: 4 })
    for (const state of states) {
      expect(groupStates[state].action.length).toBeGreaterThan(20)
      expect(groupStates[state].transition.length).toBeGreaterThan(10)
    }
  })

  it('assertTransition accepts exactly the valid previous states of the target', () => {
    for (const from of states) {
      for (const to of states) {
        const legal = groupStates[to].validPreviousStates.includes(from)
        if (legal) expect(() => assertTransition(from, to)).not.toThrow()
        else expect(() => assertTransition(from, to)).toThrow(AssertionError)
      }
    }
    // Kafka's classic table: the rebalance cycle and its exits.
    expect(() => assertTransition('Stable', 'CompletingRebalance')).toThrow(AssertionError)
    expect(() => assertTransition('Empty', 'Stable')).toThrow(AssertionError)
  })
})
