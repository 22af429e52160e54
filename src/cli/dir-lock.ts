/**
 * One process per data directory: `weir serve --dir D`, `weir <command> --dir D` and
 * `weir quickstart --dir D` each open the broker in their own process, and two brokers on the
 * same files would corrupt them (nothing in the broker stops a second one). The CLI takes
 * `<dir>/weir.lock` (created exclusively, holding the process id) before opening a directory and
 * removes it on close. A lock left by a process that no longer runs (killed) is taken over.
 *
 * Advisory only: code that calls `Weir.open` or `WeirServer.start` itself does not take it.
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { WeirError } from '../errors.ts'

export const LOCK_FILE = 'weir.lock'

/** Takes the directory's lock; resolves with the function that releases it. */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true })
  const path = join(dir, LOCK_FILE)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx')
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      return () => release(path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim())
    // Our own pid is a lock left by an earlier process that had it (pid 1 in a container).
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid
      && isRunning(holder)) {
      throw new WeirError('INVALID_CONFIG', `The data directory ${dir} is in use by process `
        + `${holder} (a weir serve?); two brokers on one directory would corrupt it. Use `
        + `--url to reach that server, or remove ${path} if no Weir process uses ${dir}.`)
    }
    await unlink(path).catch(() => undefined) // left by a process that is gone
  }
  throw new WeirError('INVALID_CONFIG', `Could not take ${path}: another process keeps `
    + 'creating it.')
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function release(path: string): Promise<void> {
  const holder = (await readFile(path, 'utf8').catch(() => '')).trim()
  if (holder === String(process.pid)) await unlink(path).catch(() => undefined)
}
