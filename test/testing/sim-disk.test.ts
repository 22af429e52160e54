/**
 * Goal: SimDisk keeps the durability contract of src/util/file-system.ts, so crash tests built on
 * it neither miss real losses nor invent impossible ones.
 * Method: drive the disk with generated operations next to a plain model (Buffers of volatile and
 * durable contents), cut the power with a generated seed, and compare what survives.
 */
import { describe, expect } from 'vitest'
import { test, fc } from '@fast-check/vitest'
import { SimDisk, SimulatedCrashError, mulberry32 } from '../../src/testing/sim-disk.ts'
import type { FileHandle } from '../../src/util/file-system.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(100)

async function readAll(handle: FileHandle): Promise<Buffer> {
  const bytes = Buffer.alloc(await handle.size())
  const read = await handle.read(bytes, 0, bytes.length, 0)
  expect(read).toBe(bytes.length)
  return bytes
}

async function readFile(disk: SimDisk, path: string): Promise<Buffer> {
  const handle = await disk.open(path, 'read')
  const bytes = await readAll(handle)
  await handle.close()
  return bytes
}

/** What a write does to a file as the contract says: gaps are zeros. */
function modelWrite(file: Buffer, bytes: Uint8Array, position: number): Buffer {
  if (bytes.length === 0) return file
  const grown = Buffer.alloc(Math.max(file.length, position + bytes.length))
  file.copy(grown)
  grown.set(bytes, position)
  return grown
}

function modelTruncate(file: Buffer, length: number): Buffer {
  const resized = Buffer.alloc(length)
  file.copy(resized, 0, 0, Math.min(length, file.length))
  return resized
}

async function diskWithFiles(names: readonly string[]): Promise<SimDisk> {
  const disk = new SimDisk()
  await disk.mkdir('/d')
  for (const name of names) await (await disk.open(`/d/${name}`, 'create')).close()
  await disk.syncDirectory('/d')
  return disk
}

const fileIndex = fc.nat(2)
const write = fc.record({
  kind: fc.constant('write' as const),
  file: fileIndex,
  position: fc.nat(3000),
  bytes: fc.uint8Array({ minLength: 0, maxLength: 1200 }),
})
const truncate = fc.record({ kind: fc.constant('truncate' as const), file: fileIndex,
  length: fc.nat(3000) })
const datasync = fc.record({ kind: fc.constant('datasync' as const), file: fileIndex })
const names = ['f0', 'f1', 'f2']

describe('SimDisk', () => {
  test.prop([fc.array(fc.uint8Array({ maxLength: 2000 }), { minLength: 1, maxLength: 3 }),
    fc.uint8Array({ minLength: 1, maxLength: 700 }), fc.boolean(), fc.integer()], { numRuns })(
    'data synced before a power failure is read back intact',
    async (contents, unsynced, torn, seed) => {
      const disk = new SimDisk()
      await disk.mkdir('/d/e')
      for (const [i, content] of contents.entries()) {
        const handle = await disk.open(`/d/e/${i}`, 'create')
        await handle.write(content, 0)
        await handle.datasync()
        await handle.write(unsynced, content.length)
      }
      await disk.syncDirectory('/d/e')
      await disk.powerFailure({ mode: torn ? 'torn' : 'lose-unsynced', random: mulberry32(seed) })
      for (const [i, content] of contents.entries()) {
        const survived = await readFile(disk, `/d/e/${i}`)
        expect(survived.subarray(0, content.length)).toEqual(Buffer.from(content))
        if (!torn) expect(survived.length).toBe(content.length)
      }
    })

  test.prop([fc.array(fc.oneof(write, truncate, datasync), { maxLength: 40 })], { numRuns })(
    'lose-unsynced power failure reverts every file to its last synced content',
    async (commands) => {
      const disk = await diskWithFiles(names)
      const handles = await Promise.all(names.map((name) => disk.open(`/d/${name}`, 'readWrite')))
      const volatile: Buffer[] = names.map(() => Buffer.alloc(0))
      const durable: Buffer[] = names.map(() => Buffer.alloc(0))
      for (const command of commands) {
        const handle = handles[command.file]!
        const file = volatile[command.file]!
        if (command.kind === 'write') {
          await handle.write(command.bytes, command.position)
          volatile[command.file] = modelWrite(file, command.bytes, command.position)
        } else if (command.kind === 'truncate') {
          await handle.truncate(command.length)
          volatile[command.file] = modelTruncate(file, command.length)
        } else {
          await handle.datasync()
          durable[command.file] = Buffer.from(file)
        }
      }
      const before = await disk.snapshot()
      names.forEach((name, i) => expect(before[`/d/${name}`]).toEqual(volatile[i]))
      await disk.powerFailure({ mode: 'lose-unsynced' })
      const after = await disk.snapshot()
      names.forEach((name, i) => expect(after[`/d/${name}`]).toEqual(durable[i]))
      await expect(handles[0]!.size()).rejects.toMatchObject({ code: 'EIO' })
    })

  test.prop([fc.array(fc.oneof(write, write, datasync), { maxLength: 30 }), fc.integer()],
    { numRuns })(
    'torn power failure leaves each file a mix of synced bytes and a subset of unsynced writes',
    async (commands, seed) => {
      const disk = await diskWithFiles(['f'])
      const handle = await disk.open('/d/f', 'readWrite')
      let volatile: Buffer = Buffer.alloc(0)
      let durable: Buffer = Buffer.alloc(0)
      let unsynced: { position: number; bytes: Uint8Array }[] = []
      for (const command of commands) {
        if (command.kind === 'write') {
          await handle.write(command.bytes, command.position)
          volatile = modelWrite(volatile, command.bytes, command.position)
          if (command.bytes.length > 0) unsynced.push(command)
        } else {
          await handle.datasync()
          durable = Buffer.from(volatile)
          unsynced = []
        }
      }
      await disk.powerFailure({ mode: 'torn', random: mulberry32(seed) })
      const survived = await readFile(disk, '/d/f')
      const sizes = new Set([durable.length, volatile.length])
      const covers = (w: { position: number; bytes: Uint8Array }, i: number): boolean =>
        i >= w.position && i < w.position + w.bytes.length
      for (const w of unsynced) {
        for (let end = w.position + 1; end <= w.position + w.bytes.length; end++) sizes.add(end)
      }
      expect(survived.length).toBeGreaterThanOrEqual(durable.length)
      expect(sizes.has(survived.length)).toBe(true)
      for (let i = 0; i < survived.length; i++) {
        const fromDurable = i < durable.length && survived[i] === durable[i]
        const fromWrite = unsynced.some((w) => covers(w, i) &&
          w.bytes[i - w.position] === survived[i])
        expect(fromDurable || fromWrite || i >= durable.length).toBe(true)
      }
      // What survived is on disk now: another power failure changes nothing.
      await disk.powerFailure({ mode: 'lose-unsynced' })
      expect(await readFile(disk, '/d/f')).toEqual(survived)
    })

  test('torn power failure drops, keeps, cuts and zero-extends writes across seeds', async () => {
    const seen = new Map<string, number>()
    const see = (outcome: string): void => void seen.set(outcome, (seen.get(outcome) ?? 0) + 1)
    for (let seed = 0; seed < 300; seed++) {
      const disk = await diskWithFiles(['f'])
      await (await disk.open('/d/f', 'readWrite')).write(Buffer.alloc(2048, 0xab), 0)
      await disk.powerFailure({ mode: 'torn', random: mulberry32(seed) })
      const survived = await readFile(disk, '/d/f')
      const clean = survived.every((byte) => byte === 0xab)
      if (survived.length === 0) see('dropped')
      else if (!clean) see('size grew without the data')
      else if (survived.length === 2048) see('kept')
      else if (survived.length % 512 === 0) see('cut at a sector')
      else see('cut at a byte')
    }
    // Each outcome has odds of about 1 in 5; 20 of 300 rules out one reached only by accident.
    expect([...seen.keys()].sort()).toEqual(['cut at a byte', 'cut at a sector', 'dropped',
      'kept', 'size grew without the data'])
    for (const count of seen.values()) expect(count).toBeGreaterThanOrEqual(20)
  })

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 500 }), fc.boolean(),
    fc.constantFrom('none', 'parent', 'another directory')], { numRuns })(
    'a rename is lost on power failure unless the directory was synced',
    async (data, crossDirectory, sync) => {
      const disk = await diskWithFiles(['a'])
      await disk.mkdir('/e')
      await disk.mkdir('/o')
      const handle = await disk.open('/d/a', 'readWrite')
      await handle.write(data, 0)
      await handle.datasync()
      const target = crossDirectory ? '/e/b' : '/d/b'
      await disk.rename('/d/a', target)
      if (sync === 'parent') await disk.syncDirectory(crossDirectory ? '/e' : '/d')
      if (sync === 'another directory') await disk.syncDirectory('/o')
      const synced = sync === 'parent'
      await disk.powerFailure({ mode: 'lose-unsynced' })
      expect(await disk.exists(target)).toBe(synced)
      expect(await disk.exists('/d/a')).toBe(!synced)
      expect(await readFile(disk, synced ? target : '/d/a')).toEqual(Buffer.from(data))
    })

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 500 }), fc.integer()], { numRuns })(
    'a torn power failure keeps or loses a rename as a whole',
    async (data, seed) => {
      const disk = await diskWithFiles(['a', 'b'])
      const handle = await disk.open('/d/a', 'readWrite')
      await handle.write(data, 0)
      await handle.datasync()
      await disk.rename('/d/a', '/d/b')
      await disk.powerFailure({ mode: 'torn', random: mulberry32(seed) })
      const names = await disk.list('/d')
      expect([['a', 'b'], ['b']]).toContainEqual(names)
      const renamed = names.length === 1
      expect(await readFile(disk, '/d/b')).toEqual(renamed ? Buffer.from(data) : Buffer.alloc(0))
    })

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 500 }), fc.uint8Array({ maxLength: 500 })],
    { numRuns })(
    'an unlinked open file stays readable through its handle',
    async (data, more) => {
      const disk = await diskWithFiles(['f'])
      const handle = await disk.open('/d/f', 'readWrite')
      await handle.write(data, 0)
      await disk.unlink('/d/f')
      expect(await disk.exists('/d/f')).toBe(false)
      await expect(disk.open('/d/f', 'read')).rejects.toMatchObject({ code: 'ENOENT' })
      await handle.write(more, data.length)
      expect(await readAll(handle)).toEqual(Buffer.concat([data, more]))
      await disk.unlink('/d/f')
    })

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 300 })], { numRuns: 50 })(
    'crashAfter stops at the Nth mutating operation',
    async (data) => {
      // Each step is one mutating operation; `after` runs between them.
      const procedure = async (disk: SimDisk, after: () => Promise<void>): Promise<void> => {
        const handle = await disk.open('/d/tmp', 'create')
        await after()
        await handle.write(data, 0)
        await after()
        await handle.writev([data, data], data.length)
        await after()
        await handle.truncate(data.length * 2)
        await after()
        await handle.datasync()
        await after()
        await disk.rename('/d/tmp', '/d/f0')
        await after()
        await disk.unlink('/d/f1')
        await after()
        await disk.syncDirectory('/d')
        await after()
      }
      const reference = await diskWithFiles(['f0', 'f1'])
      const start = reference.operationCount
      const states = [await reference.snapshot()]
      await procedure(reference, async () => void states.push(await reference.snapshot()))
      const steps = reference.operationCount - start
      expect(steps).toBe(8)
      for (let n = 0; n < steps; n++) {
        const disk = await diskWithFiles(['f0', 'f1'])
        await disk.crashAfter(n)
        await expect(procedure(disk, async () => {})).rejects.toBeInstanceOf(SimulatedCrashError)
        expect(disk.operationCount - start).toBe(n)
        await expect(disk.exists('/d/f0')).rejects.toBeInstanceOf(SimulatedCrashError)
        await disk.restart()
        expect(await disk.snapshot()).toEqual(states[n])
        await disk.powerFailure({ mode: 'lose-unsynced' })
        await procedure(disk, async () => {})
        expect(await disk.snapshot()).toEqual(states[steps])
      }
    })

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 500 })], { numRuns })(
    'restart keeps unsynced data but invalidates open handles',
    async (data) => {
      const disk = await diskWithFiles([])
      const handle = await disk.open('/d/f', 'create')
      await handle.write(data, 0)
      await disk.restart()
      await expect(handle.write(data, 0)).rejects.toMatchObject({ code: 'EIO' })
      await expect(handle.close()).rejects.toMatchObject({ code: 'EIO' })
      expect(await readFile(disk, '/d/f')).toEqual(Buffer.from(data))
      await disk.powerFailure({ mode: 'lose-unsynced' })
      expect(await disk.exists('/d/f')).toBe(false)
    })

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.integer({
    min: 1, max: 255 }), fc.nat()], { numRuns })(
    'corruption and tail loss at rest survive a power failure',
    async (data, at, xorMask, cut) => {
      const disk = await diskWithFiles(['f'])
      const handle = await disk.open('/d/f', 'readWrite')
      await handle.write(data, 0)
      await handle.datasync()
      const position = at % data.length
      const length = cut % (data.length + 1)
      await disk.corrupt('/d/f', { position, xorMask })
      await disk.truncateAtRest('/d/f', length)
      const expected = Buffer.from(data)
      expected[position] = expected[position]! ^ xorMask
      expect(await readAll(handle)).toEqual(expected.subarray(0, length))
      await disk.powerFailure({ mode: 'torn', random: mulberry32(at) })
      expect(await readFile(disk, '/d/f')).toEqual(expected.subarray(0, length))
    })

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(4000)], { numRuns })(
    'create never truncates and writes past the end fill the gap with zeros',
    async (data, gap) => {
      const disk = await diskWithFiles([])
      await expect(disk.open('/d/f', 'read')).rejects.toMatchObject({ code: 'ENOENT' })
      await expect(disk.open('/d/f', 'readWrite')).rejects.toMatchObject({ code: 'ENOENT' })
      await expect(disk.rename('/d/f', '/d/g')).rejects.toMatchObject({ code: 'ENOENT' })
      await disk.unlink('/d/f')
      await (await disk.open('/d/f', 'create')).writev([data], gap)
      const reopened = await disk.open('/d/f', 'create')
      expect(await readAll(reopened)).toEqual(Buffer.concat([Buffer.alloc(gap), data]))
      await disk.mkdir('/d/sub/deeper')
      expect(await disk.list('/d')).toEqual(['f', 'sub'])
      expect(await disk.list('/d/sub')).toEqual(['deeper'])
    })
})
