/**
 * Starts and kills Weir servers in child processes (test/helpers/server-process.ts) for tests of
 * what a remote client sees when its server dies: `startServerChild(dir, port)` resolves once the
 * server listens; `kill()` sends SIGKILL and resolves when the process is gone.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SERVER_PROCESS = fileURLToPath(new URL('./server-process.ts', import.meta.url))

export interface ServerChild {
  readonly url: string
  readonly process: ChildProcess
  /** SIGKILL; resolves once the process has exited. */
  kill(): Promise<void>
  /** SIGTERM (graceful shutdown); resolves with the exit code. */
  terminate(): Promise<number | null>
}

/** A TCP port free right now on 127.0.0.1, so a restarted server can listen on the same one. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise(resolve => server.close(resolve))
  if (typeof address !== 'object' || address === null) throw new Error('no port')
  return address.port
}

/** `kafkaPort`: also serve the Kafka wire protocol there. */
export function startServerChild(dir: string, port: number, kafkaPort?: number):
Promise<ServerChild> {
  const args = [SERVER_PROCESS, dir, String(port),
    ...kafkaPort === undefined ? [] : [String(kafkaPort)]]
  const child = spawn(process.execPath, ['--import', 'tsx', ...args],
    { cwd: REPOSITORY_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-8192) })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      out += chunk
      const match = /listening (\S+)\n/.exec(out)
      if (match !== null) {
        resolve({
          url: match[1]!,
          process: child,
          kill: async () => {
            child.kill('SIGKILL')
            await exited
          },
          terminate: async () => {
            child.kill('SIGTERM')
            return exited
          },
        })
      }
    })
    void exited.then(code => reject(new Error(`server child exited (${code}) before listening: `
      + stderr)))
  })
}
