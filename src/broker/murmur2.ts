/**
 * Kafka's 32-bit murmur2 hash, bit for bit as `org.apache.kafka.common.utils.Utils.murmur2(byte[])`
 * computes it, so a keyed record lands on the partition a Java, librdkafka or KafkaJS
 * (`JavaCompatiblePartitioner`, the default since 2.0) producer would pick for the same key bytes.
 *
 * Algorithm: MurmurHash2 by Austin Appleby with Kafka's fixed seed 0x9747b28c, m = 0x5bd1e995,
 * r = 24. The input is read as little-endian 4-byte words (byte i of a word is shifted left by
 * 8 * i); the 1-3 trailing bytes are folded in highest first, then multiplied by m once; a final
 * avalanche (`h ^= h >>> 13; h *= m; h ^= h >>> 15`) mixes the result. All arithmetic is Java
 * `int` arithmetic: 32-bit two's complement with wrap-around, which is `Math.imul` for the
 * multiplications and the bit operators for the rest. The result is a signed int32, like Java's.
 *
 * Invariants: every intermediate value stays an int32 (each step ends in `Math.imul`, `^` or
 * `|`), so no precision is lost to doubles: multiplying with `*` instead is the bug KafkaJS's
 * legacy partitioner shipped, giving hashes no Java client agrees with.
 *
 * Deliberately not here: the string overloads Kafka lacks (callers hash the serialized key bytes,
 * as Kafka does), seeds, and the 64-bit variant. It runs once per keyed record, so it has no
 * assertions in the loop and allocates nothing; test/broker/murmur2.test.ts pins it to published
 * vectors from Kafka, librdkafka and KafkaJS and to a literal BigInt port of the Java code.
 */

/** Kafka's seed (Utils.murmur2). */
const SEED = 0x9747b28c
/** Mixing constant m; "not really magic, they just happen to work well" (Utils.murmur2). */
const M = 0x5bd1e995
/** Mixing shift r. */
const R = 24

/**
 * The murmur2 hash of `data` as Kafka computes it, a signed 32-bit integer.
 *
 * @example
 * murmur2(Buffer.from('foobar')) // -790332482, as in Kafka's UtilsTest.testMurmur2
 * @see apache/kafka clients/src/main/java/org/apache/kafka/common/utils/Utils.java, `murmur2`
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = SEED ^ length
  const wordsEnd = length & ~3

  for (let i = 0; i < wordsEnd; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, M)
    k ^= k >>> R
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }

  // Java's `switch (length % 4)` falls through from case 3 to case 1; written as ifs because
  // the compiler forbids fall-through (noFallthroughCasesInSwitch).
  const tailBytes = length & 3
  if (tailBytes !== 0) {
    if (tailBytes === 3) h ^= data[wordsEnd + 2]! << 16
    if (tailBytes >= 2) h ^= data[wordsEnd + 1]! << 8
    h ^= data[wordsEnd]!
    h = Math.imul(h, M)
  }

  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h
}

/**
 * Kafka's `Utils.toPositive`: clears the sign bit, mapping any int32 into [0, 2^31 - 1]. Unlike
 * `Math.abs` it never overflows (`abs(-2^31)` is still negative in Java), which is why Kafka
 * uses it before taking a hash modulo the partition count.
 *
 * @example
 * toPositive(-790332482) // 1357151166
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}
