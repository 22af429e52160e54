/**
 * Goal: NodeFileHandle's writes put exactly the given bytes at the given position, whether
 * vectored or not, on the worker pool or on the calling thread (writevSync, which the log uses
 * for small appends). Property: after any sequence of writes through any of the three methods,
 * the file equals a model buffer patched the same way.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fc, test } from '@fast-check/vitest'
import { describe, expect } from 'vitest'
import { NodeFileSystem } from '../../src/util/node-file-system.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { numRuns } from '../helpers/num-runs.ts'

const writeArbitrary = fc.record({
  method: fc.constantFrom('write', 'writev', 'writevSync'),
  position: fc.nat(2000),
  buffers: fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }),
})

describe('NodeFileSystem', () => {
  test.prop([fc.array(writeArbitrary, { minLength: 1, maxLength: 12 })], { numRuns: numRuns(40) })(
    'the file equals a model patched by the same writes, through write, writev or writevSync',
    async writes => {
      await withTempDir('weir-nodefs-', async dir => {
        const path = join(dir, 'file')
        const handle = await new NodeFileSystem().open(path, 'create')
        let model = Buffer.alloc(0)
        try {
          for (const { method, position, buffers } of writes) {
            const data = Buffer.concat(buffers)
            if (method === 'write') await handle.write(data, position)
            else if (method === 'writev') await handle.writev(buffers, position)
            else handle.writevSync!(buffers, position)
            if (data.length === 0) continue // writing nothing does not extend a file (POSIX)
            const end = Math.max(model.length, position + data.length)
            const next = Buffer.alloc(end)
            model.copy(next)
            data.copy(next, position)
            model = next
          }
        } finally {
          await handle.close()
        }
        expect(await readFile(path)).toEqual(model)
      })
    })
})
