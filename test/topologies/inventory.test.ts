/**
 * Goal: the inventory topology keeps each SKU's stock level by its rules (a reservation never
 * exceeds what is available, a release or fulfilment never exceeds what the order holds), sends
 * every refused event to `reservation-rejections` with its reason, and ends the compacted
 * `stock-levels` topic with the table. Method: fast-check generates inventory events over a few
 * SKUs and orders, with invalid quantities among them; the topology runs on a fresh embedded
 * Weir until caught up; the store, the holds, the output topics and the level invariants are
 * compared with a model written here from the rules.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  inventory, type InventoryEvent, inventoryEventsTopic, inventoryTopics, type Rejection,
  reservationKey, reservationRejectionsTopic, reservationsStore, type StockLevel,
  stockLevelsStore, stockLevelsTopic,
} from '../../topologies/inventory.ts'
import { propertyParameters } from '../helpers/streams-fixtures.ts'
import { byKeyBytes, committedByKey, runTopology } from '../helpers/topologies-fixtures.ts'
import { overKafka } from '../helpers/remote-fixtures.ts'

interface Model {
  readonly levels: Map<string, StockLevel>
  readonly holds: Map<string, number>
  /** Rejections per SKU, in event order. */
  readonly rejections: Map<string, Rejection[]>
}

function model(events: readonly InventoryEvent[]): Model {
  const levels = new Map<string, StockLevel>()
  const holds = new Map<string, number>()
  const rejections = new Map<string, Rejection[]>()
  for (const event of events) {
    const { onHand, reserved } = levels.get(event.sku) ?? { onHand: 0, reserved: 0 }
    const holdKey = event.type === 'Restocked' ? '' : reservationKey(event.sku, event.orderId)
    const held = holds.get(holdKey) ?? 0
    const q = event.quantity
    let reason: Rejection['reason'] | undefined
    let next: [onHand: number, reserved: number, held: number] = [onHand, reserved, held]
    if (!Number.isInteger(q) || q < 1) reason = 'invalid-quantity'
    else if (event.type === 'Restocked') next = [onHand + q, reserved, held]
    else if (event.type === 'Reserved') {
      if (reserved + q > onHand) reason = 'insufficient-stock'
      else next = [onHand, reserved + q, held + q]
    } else if (q > held) reason = 'exceeds-reservation'
    else if (event.type === 'Released') next = [onHand, reserved - q, held - q]
    else next = [onHand - q, reserved - q, held - q]
    if (reason !== undefined) {
      rejections.set(event.sku, [...rejections.get(event.sku) ?? [], { event, reason }])
      continue
    }
    levels.set(event.sku, { sku: event.sku, onHand: next[0], reserved: next[1],
      available: next[0] - next[1] })
    if (holdKey === '') continue
    if (next[2] === 0) holds.delete(holdKey)
    else holds.set(holdKey, next[2])
  }
  return { levels, holds, rejections }
}

const skus = ['sku-1', 'sku-2', 'sku-3', 'skü-4']
const quantity = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -2, 1.5) })
const inventoryEvent: fc.Arbitrary<InventoryEvent> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ type: fc.constant('Restocked' as const),
    sku: fc.constantFrom(...skus), quantity }) },
  { weight: 5, arbitrary: fc.record({
    type: fc.constantFrom('Reserved' as const, 'Released' as const, 'Fulfilled' as const),
    sku: fc.constantFrom(...skus), orderId: fc.constantFrom('o1', 'o2', 'o3'), quantity }) },
)

async function checkInventory(events: readonly InventoryEvent[], partitions: number):
Promise<void> {
  const expected = model(events)
  await runTopology({ topology: inventory(), topics: inventoryTopics(partitions),
    input: inventoryEventsTopic, events, keyOf: event => event.sku }, async ({ weir, app }) => {
    expect(await app.query<StockLevel>(stockLevelsStore).all())
      .toEqual(byKeyBytes(expected.levels))
    expect(await app.query<number>(reservationsStore).all()).toEqual(byKeyBytes(expected.holds))
    const levels = await committedByKey<StockLevel>(weir, stockLevelsTopic)
    expect(byKeyBytes([...levels].map(([sku, values]) => [sku, values.at(-1)!] as const)))
      .toEqual(byKeyBytes(expected.levels))
    for (const level of [...levels.values()].flat()) {
      expect(level.reserved).toBeGreaterThanOrEqual(0)
      expect(level.reserved).toBeLessThanOrEqual(level.onHand)
      expect(level.available).toBe(level.onHand - level.reserved)
    }
    expect(await committedByKey<Rejection>(weir, reservationRejectionsTopic))
      .toEqual(expected.rejections)
  })
}

describe('inventory', () => {
  test.prop([fc.array(inventoryEvent, { maxLength: 60, size: 'max' }),
    fc.integer({ min: 1, max: 3 })],
    propertyParameters(4) as fc.Parameters<[InventoryEvent[], number]>)(
    'stock levels, holds and rejections follow the rules, and levels never go below zero or '
      + 'over what is on hand',
    async (events, partitions) => {
      await checkInventory(events, partitions)
    })

  it('a reservation beyond the available stock is rejected and leaves the level unchanged; '
    + 'stock-levels is a compacted topic',
    async () => {
      const events: InventoryEvent[] = [
        { type: 'Restocked', sku: 'sku-1', quantity: 5 },
        { type: 'Reserved', sku: 'sku-1', orderId: 'o1', quantity: 3 },
        { type: 'Reserved', sku: 'sku-1', orderId: 'o2', quantity: 3 },
        { type: 'Released', sku: 'sku-1', orderId: 'o2', quantity: 1 },
        { type: 'Fulfilled', sku: 'sku-1', orderId: 'o1', quantity: 2 },
      ]
      await runTopology({ topology: inventory('inventory-example'),
        topics: inventoryTopics(1), input: inventoryEventsTopic, events,
        keyOf: event => event.sku }, async ({ weir, app }) => {
        expect(await app.query<StockLevel>(stockLevelsStore).get('sku-1')).toEqual(
          { sku: 'sku-1', onHand: 3, reserved: 1, available: 2 })
        expect(await committedByKey<Rejection>(weir, reservationRejectionsTopic)).toEqual(
          new Map([['sku-1', [{ event: events[2], reason: 'insufficient-stock' },
            { event: events[3], reason: 'exceeds-reservation' }]]]))
        const [description] = await weir.admin().describeTopics([stockLevelsTopic])
        // Over Kafka topic configs are not read back (no DescribeConfigs): the listener's side.
        if (!overKafka) expect(description!.config.cleanupPolicy).toBe('compact')
      })
    })
})
