/**
 * DeleteGroups (v0–1): deletes each named group on its own, one error per group: a group with
 * members gets NON_EMPTY_GROUP (68), an unknown one GROUP_ID_NOT_FOUND (69), as Kafka answers.
 * A name given twice is answered twice (the second finds the group gone).
 */
import type { KafkaHandler } from './kafka-context.ts'
import { settle } from './group-wire.ts'

export const handleDeleteGroups: KafkaHandler = async (request, context) => {
  const names = request.groupsNames as readonly string[]
  const results: Array<{ groupId: string, errorCode: number }> = []
  for (const groupId of names) {
    const { errorCode } = await settle(() => context.transport.deleteGroups([groupId]))
    results.push({ groupId, errorCode })
  }
  return { throttleTimeMs: 0, results }
}
