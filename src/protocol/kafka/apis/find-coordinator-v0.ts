/**
 * FindCoordinator v0 (key 10, GroupCoordinator in old clients): which node coordinates a group.
 * librdkafka 2.0.2 enables consumer groups only when the advertised range holds v0 (§9 of the
 * reference), so it is served although no client sends it.
 */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'

export const findCoordinatorV0: ApiVersionSchema = {
  apiKey: 10, name: 'FindCoordinator', version: 0,
  request: message(false, field('key', 'string')),
  response: message(false, field('errorCode', 'int16'), field('nodeId', 'int32'),
    field('host', 'string'), field('port', 'int32')),
}
