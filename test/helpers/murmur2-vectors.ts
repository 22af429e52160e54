/** Known murmur2 results, shared by the murmur2 and partitioner tests. */

/** A known vector: input text (hashed as its UTF-8/ASCII bytes), Java's signed int result. */
export type Vector = readonly [input: string, hash: number]

/**
 * apache/kafka, clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java,
 * `testMurmur2` (commit f55581dc73953c3509a4702433aeeeddc2970779).
 */
export const kafkaUtilsTestMurmur2: readonly Vector[] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
]
