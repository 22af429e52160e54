/**
 * The contract every partition assignor implements (Kafka's ConsumerPartitionAssignor). In the
 * classic group protocol the group leader — a client — runs the assignor over the members'
 * subscriptions, so assignors are pure functions: same input, same output.
 *
 * `eager` assignors expect every member to revoke everything before a rebalance. `cooperative`
 * ones (KIP-429) let members keep what they own: a partition moving from A to B is left out of
 * this round's assignment entirely, A revokes it, rejoins, and a follow-up round hands it to B.
 */

export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

export interface AssignorMember {
  readonly memberId: string
  /** Static membership id (KIP-345); assignors may use it to order members stably. */
  readonly groupInstanceId?: string
  /** Topics this member subscribes to (already resolved from patterns by the member). */
  readonly topics: readonly string[]
  /** Partitions the member owned when it joined (cooperative protocol; empty for eager). */
  readonly ownedPartitions: readonly TopicPartition[]
}

export type RebalanceProtocol = 'eager' | 'cooperative'

export interface Assignor {
  readonly name: string
  readonly protocol: RebalanceProtocol
  /**
   * Assigns partitions of the subscribed topics to members. Returns an entry for every member
   * (possibly empty). `partitionsPerTopic` holds the partition count of every subscribed topic
   * that exists; topics missing from it are ignored.
   */
  assign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>):
  Map<string, TopicPartition[]>
}
