/**
 * Goal: the remote-client example runs end to end: a server with a token, a client connected
 * over HTTP that produces and consumes every record, and a lag of 0 after its commit.
 * Method: run it as a child process through tsx on a temp dir and check what it printed.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')

it('the remote-client example consumes over HTTP every record it produced and ends with lag 0',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-remote-example-test-'))
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx',
        join(root, 'examples/remote-client.ts'), dir], { cwd: root })
      expect(stdout).toMatch(/^server listening on http:\/\/127\.0\.0\.1:\d+$/m)
      const consumed = stdout.split('\n').filter(line => /^partition \d offset \d+: /.test(line))
        .map(line => line.split(': ')[1]).sort()
      expect(consumed).toEqual(['bonjour', 'ciao', 'hallo', 'hello'])
      expect(stdout).toContain("lag of group 'readers': 0")
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
