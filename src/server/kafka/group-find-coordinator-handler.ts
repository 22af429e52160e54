/**
 * FindCoordinator: this node coordinates every group (key_type 0) and every transactional id
 * (key_type 1): a Weir cluster is one node, at the advertised address Metadata gives. Any other
 * key type is INVALID_REQUEST (42), as Kafka answers an unknown CoordinatorType.
 */
import { type KafkaHandler, NODE_ID } from './kafka-context.ts'
import { NO_ERROR, wire } from './group-wire.ts'

const INVALID_REQUEST = 42
const GROUP_KEY_TYPE = 0
const TRANSACTION_KEY_TYPE = 1

interface FindCoordinatorWire {
  readonly key: string
  /** Absent in v0: a group. */
  readonly keyType?: number
}

export const handleFindCoordinator: KafkaHandler = async (request, context) => {
  const { keyType = GROUP_KEY_TYPE } = wire<FindCoordinatorWire>(request)
  if (keyType !== GROUP_KEY_TYPE && keyType !== TRANSACTION_KEY_TYPE) {
    return { throttleTimeMs: 0, errorCode: INVALID_REQUEST,
      errorMessage: `Unknown coordinator key type ${keyType}; use 0 (group) or 1 (transaction).`,
      nodeId: -1, host: '', port: -1 }
  }
  return { throttleTimeMs: 0, errorCode: NO_ERROR, errorMessage: null, nodeId: NODE_ID,
    host: context.advertised.host, port: context.advertised.port }
}
