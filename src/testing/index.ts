/**
 * Weir's public test kit, `weir/testing`: what a user's vitest + fast-check suite imports to
 * prove a topology correct, under crashes too (docs/testing.md walks through it).
 *
 * - TopologyTestDriver: a topology on an embedded broker in virtual time, for example tests;
 *   `marbles` / `toMarbles` for short timed cases.
 * - simulate: a seeded run through a schedule of faults (crashes with or without state loss,
 *   broker kill and power loss, rebalances, delayed or duplicated requests, zombies).
 * - Checkers for any run (exactlyOnce, perKeyOrder, noAbortedReads, stateEqualsFold,
 *   noLostAcknowledged), a history recorder and a Jepsen-style queue/transaction checker.
 * - fast-check arbitraries for records, skewed keys, event-time disorder and fault schedules
 *   (fast-check is a peer dependency).
 */
export type {
  Fault, FaultApi, FaultKind, ProcessingStep, ReadRecord, ScheduledFault, TestRecord,
} from './model.ts'
export { TopologyTestDriver, type TestDriverOptions } from './topology-test-driver.ts'
export { marbles, toMarbles, type MarbleOptions } from './marbles.ts'
export { readTopic, type ReadTopicOptions, type TopicRead } from './read-topic.ts'
export {
  simulate, type SimulationOptions, type SimulationResult,
} from './simulate.ts'
export { assertValid, type Anomaly, type CheckResult } from './check-result.ts'
export {
  exactlyOnce, noAbortedReads, noLostAcknowledged, perKeyOrder, stateEqualsFold,
  type ExactlyOnceOptions, type PerKeyOrderOptions, type StoreEntry,
} from './checkers.ts'
export {
  HistoryRecorder, outcomeOfError, type History, type HistoryEvent, type Operation,
} from './history.ts'
export {
  checkQueueHistory, type LostCounts, type QueueCheckOptions, type QueueCheckResult,
  type QueueStats,
} from './queue-checker.ts'
export {
  chunked, chunks, cuts, DEFAULT_KEYS, eventTimes, keys, records, withEventTimeDisorder,
  type DisorderOptions, type KeysOptions, type RecordsOptions,
} from './arbitraries.ts'
export {
  FAULT_APIS, FAULT_KINDS, faults, faultSchedules, PROCESSING_STEPS,
  type FaultOptions, type FaultScheduleOptions,
} from './arbitraries-faults.ts'
export { SimDisk, type PowerFailureMode } from './sim-disk.ts'
export { propertyParameters } from './property-parameters.ts'
