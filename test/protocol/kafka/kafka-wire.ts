/**
 * Test helpers for the Kafka listener over real TCP: an embedded Weir with a listener for one
 * test file, build request frames with Weir's schemas, collect response frames, open a
 * connection, read a response body.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { type CreateTopicRequest, Weir, type WeirOpenOptions } from '../../../src/index.ts'
import { schemaFor } from '../../../src/protocol/kafka/apis/index.ts'
import {
  FrameReader, FrameWriter, readMessage, writeMessage,
} from '../../../src/protocol/kafka/schema.ts'
import {
  KafkaListener, type KafkaListenerOptions,
} from '../../../src/server/kafka/kafka-listener.ts'

export interface ListenerWorldOptions {
  readonly weir?: Omit<WeirOpenOptions, 'dir'>
  /** The transport is the world's Weir and the port a free one: tests read `listener.port`. */
  readonly listener?: Omit<KafkaListenerOptions, 'transport' | 'port'>
  /** Created before the listener starts, so a client's first Metadata already sees them. */
  readonly topics?: readonly CreateTopicRequest[]
}

export interface ListenerWorld {
  readonly dir: string
  readonly weir: Weir
  readonly listener: KafkaListener
}

/**
 * An embedded Weir in a temp dir with a Kafka listener on a free port, for the tests of the file
 * or `describe` it is called in: it registers their beforeAll and afterAll (so a skipped
 * `describe` starts nothing). Read its fields inside tests and later hooks: they are set in
 * beforeAll. The afterAll closes the listener, then Weir, then removes the dir, skipping what a
 * failed start never made; a file's own afterAll, registered later, runs before it.
 */
export function listenerWorld(prefix: string, options: ListenerWorldOptions = {}):
ListenerWorld {
  let dir: string | undefined
  let weir: Weir | undefined
  let listener: KafkaListener | undefined
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix))
    weir = await Weir.open({ ...options.weir, dir })
    if (options.topics !== undefined) await weir.admin().createTopics(options.topics)
    listener = await KafkaListener.start({ ...options.listener, transport: weir.transport,
      port: 0 })
  })
  afterAll(async () => {
    await listener?.close()
    await weir?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })
  return {
    get dir() { return started(dir, 'dir') },
    get weir() { return started(weir, 'weir') },
    get listener() { return started(listener, 'listener') },
  }
}

function started<T>(value: T | undefined, field: string): T {
  if (value === undefined) {
    throw new Error(`listenerWorld: ${field} is not set: read it inside a test or a later hook, `
      + 'after the world\'s beforeAll has run (and succeeded)')
  }
  return value
}

/** A request frame: size, header v1 (v2 when flexible), body. */
export function requestFrame(apiKey: number, version: number, correlationId: number, body: object,
  flexibleHeader = false): Buffer {
  const writer = new FrameWriter()
  writer.fixed(8, b => {
    b.writeInt16BE(apiKey, 0)
    b.writeInt16BE(version, 2)
    b.writeInt32BE(correlationId, 4)
  })
  writer.fixed(4, b => {
    b.writeInt16BE(2, 0) // client id 'id'
    b.write('id', 2)
  })
  if (flexibleHeader) writer.uvarint(0)
  writeMessage(writer, schemaFor(apiKey, version)!.request, body)
  const payload = writer.toBuffer()
  const frame = Buffer.alloc(4 + payload.length)
  frame.writeInt32BE(payload.length)
  payload.copy(frame, 4)
  return frame
}

/** Collects response frames from a socket; resolves `frames(n)` when n have arrived. */
export function responses(socket: Socket) {
  let buffered = Buffer.alloc(0)
  const frames: Buffer[] = []
  let ended = false
  const waiters: Array<() => void> = []
  socket.on('data', chunk => {
    buffered = Buffer.concat([buffered, chunk])
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
      frames.push(buffered.subarray(4, 4 + buffered.readInt32BE(0)))
      buffered = buffered.subarray(4 + buffered.readInt32BE(0))
    }
    waiters.splice(0).forEach(wake => wake())
  })
  socket.on('close', () => {
    ended = true
    waiters.splice(0).forEach(wake => wake())
  })
  return {
    async frames(count: number): Promise<Buffer[]> {
      while (frames.length < count && !ended) await new Promise<void>(r => waiters.push(r))
      return frames.slice(0, count)
    },
    async closed(): Promise<{ frames: number, partial: number }> {
      while (!ended) await new Promise<void>(r => waiters.push(r))
      return { frames: frames.length, partial: buffered.length }
    },
  }
}

export async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return socket
}

/** A response frame's correlation id and body (after a v0, or v1 when flexible, header). */
export function body(frame: Buffer, apiKey: number, version: number, flexibleHeader = false) {
  const reader = new FrameReader(frame, flexibleHeader ? 5 : 4)
  return { correlationId: frame.readInt32BE(0),
    value: readMessage<Record<string, unknown>>(reader, schemaFor(apiKey, version)!.response) }
}

/**
 * Whether kcat (librdkafka's CLI) runs here: its tests skip, saying so, without it
 * (.ci/run installs it).
 */
export const kcatInstalled = spawnSync('kcat', ['-V']).status === 0
