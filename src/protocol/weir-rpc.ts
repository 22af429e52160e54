/**
 * The frames of WebSocket /v1/rpc (RpcRequest and RpcResponse in proto/weir.proto): produce and
 * fetch calls with the same bodies as POST /v1/produce and POST /v1/fetch, tagged with an id the
 * client picks so that answers may come back in any order. Decoding is strict as in
 * weir-proto.ts; a frame whose envelope decodes but whose call is malformed still yields its id,
 * so the server can answer that one call with an error and keep the connection.
 */
import type { WeirError } from '../errors.ts'
import type { FetchRequest, FetchResult } from '../broker/fetch.ts'
import {
  decodeWire, errorFromWire, errorToWire, fetchRequestFromWire, fetchRequestToWire,
  fetchResponseFromWire, fetchResponseToWire, malformed, messageType,
  type ProducePartitionResult, produceRequestFromWire, produceRequestToWire,
  type ProduceRequestMessage, produceResponseFromWire, produceResponseToWire,
} from './weir-proto.ts'

const rpcRequest = messageType('RpcRequest')
const rpcResponse = messageType('RpcResponse')

/** Largest request id; ids wrap around after it. */
export const RPC_ID_MAX = 0xffff_ffff

export type RpcCall =
  | { readonly kind: 'produce', readonly request: ProduceRequestMessage }
  | { readonly kind: 'fetch', readonly request: FetchRequest }

export type RpcResult =
  | { readonly kind: 'produce', readonly results: ProducePartitionResult[] }
  | { readonly kind: 'fetch', readonly results: FetchResult[] }
  | { readonly kind: 'error', readonly error: WeirError }

/** A decoded request frame: its call, or why the call is malformed (answered as an error). */
export type RpcRequestFrame =
  | { readonly id: number, readonly call: RpcCall }
  | { readonly id: number, readonly error: WeirError }

interface WireRpcRequest { id: number, produce?: unknown, fetch?: unknown }
interface WireRpcResponse { id: number, produce?: unknown, fetch?: unknown, error?: unknown }

export function encodeRpcRequest(id: number, call: RpcCall): Uint8Array {
  return rpcRequest.encode(call.kind === 'produce'
    ? { id, produce: produceRequestToWire(call.request) }
    : { id, fetch: fetchRequestToWire(call.request) }).finish()
}

/** @throws WEIR_ERR_SERVER_BODY_MALFORMED when the frame is not an RpcRequest at all */
export function decodeRpcRequest(bytes: Uint8Array): RpcRequestFrame {
  const wire = decodeWire(rpcRequest, bytes) as WireRpcRequest
  const { id } = wire
  try {
    if (wire.produce != null) {
      return { id, call: { kind: 'produce', request: produceRequestFromWire(wire.produce) } }
    }
    if (wire.fetch != null) {
      return { id, call: { kind: 'fetch', request: fetchRequestFromWire(wire.fetch) } }
    }
    return { id, error: malformed('The RpcRequest names no call: set produce or fetch.') }
  } catch (error) {
    return { id, error: error as WeirError }
  }
}

export function encodeRpcResponse(id: number, result: RpcResult): Uint8Array {
  switch (result.kind) {
    case 'produce': return rpcResponse.encode(
      { id, produce: produceResponseToWire(result.results) }).finish()
    case 'fetch': return rpcResponse.encode(
      { id, fetch: fetchResponseToWire(result.results) }).finish()
    case 'error': return rpcResponse.encode({ id, error: errorToWire(result.error) }).finish()
  }
}

/** @throws WEIR_ERR_SERVER_BODY_MALFORMED */
export function decodeRpcResponse(bytes: Uint8Array): { id: number, result: RpcResult } {
  const wire = decodeWire(rpcResponse, bytes) as WireRpcResponse
  const { id } = wire
  if (wire.produce != null) {
    return { id, result: { kind: 'produce', results: produceResponseFromWire(wire.produce) } }
  }
  if (wire.fetch != null) {
    return { id, result: { kind: 'fetch', results: fetchResponseFromWire(wire.fetch) } }
  }
  if (wire.error != null) {
    return { id, result: { kind: 'error',
      error: errorFromWire(wire.error as { code?: unknown, message?: unknown }) } }
  }
  throw malformed(`The RpcResponse to request ${id} holds no result.`)
}
