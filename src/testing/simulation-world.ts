/**
 * The world a simulation runs in: an embedded broker on a simulated disk (SimDisk, so a power
 * loss can drop exactly what was not fsynced), reached through a transport that can delay or
 * duplicate requests, and the app instances on top with their state directories. A broker
 * fault replaces the broker (and so every client of it) with a fresh one on the same disk.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EmbeddedTransport } from '../client/transport/embedded.ts'
import { Weir } from '../client/weir.ts'
import { faultyTransport, type FaultyTransport } from './faulty-transport.ts'
import { mulberry32, SimDisk } from './sim-disk.ts'

const BROKER_DIR = '/weir'

export class SimulationWorld {
  private constructor(
    readonly disk: SimDisk,
    readonly localDir: string,
    private current: { weir: Weir, faults: FaultyTransport },
  ) {}

  static async open(seed: number): Promise<SimulationWorld> {
    const disk = new SimDisk({ seed })
    const localDir = await mkdtemp(join(tmpdir(), 'weir-simulation-'))
    return new SimulationWorld(disk, localDir, await SimulationWorld.broker(disk))
  }

  private static async broker(disk: SimDisk): Promise<{ weir: Weir, faults: FaultyTransport }> {
    const embedded = await EmbeddedTransport.open({ dir: BROKER_DIR, fs: disk,
      offsetsTopicPartitions: 1, transactionStateTopicPartitions: 1 })
    const faults = faultyTransport(embedded)
    return { weir: new Weir(faults.transport), faults }
  }

  get weir(): Weir {
    return this.current.weir
  }

  get faults(): FaultyTransport {
    return this.current.faults
  }

  /** The state directory of the app instance named `instance`. */
  stateDir(instance: string): string {
    return join(this.localDir, 'state', instance)
  }

  /**
   * The broker process dies (kill -9: the page cache survives) or the machine loses power
   * (only fsynced data survives; with `torn`, part of the rest), and a new broker opens on the
   * disk. The old broker's clients are dead with it.
   */
  async restartBroker(how: 'kill' | 'power-loss', seed: number): Promise<void> {
    const old = this.current
    if (how === 'kill') await this.disk.restart()
    else await this.disk.powerFailure({ mode: 'lose-unsynced', random: mulberry32(seed) })
    // Its files are dead now: closing it only stops its timers (what it writes fails).
    await old.weir.close().catch(() => undefined)
    this.current = await SimulationWorld.broker(this.disk)
  }

  async close(): Promise<void> {
    try {
      await this.current.weir.close()
    } finally {
      await rm(this.localDir, { recursive: true, force: true })
    }
  }

  /** Deletes an instance's local state (a crash that loses the disk of the app's machine). */
  async loseState(instance: string): Promise<void> {
    await rm(this.stateDir(instance), { recursive: true, force: true })
  }
}
