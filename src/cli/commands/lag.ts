/**
 * `weir lag [<group>]`: how far groups are behind, per partition of every topic they committed
 * offsets for (all groups when none is named). Lag is measured to the last stable offset
 * (read_committed, the consumer's default) or the high watermark (`--isolation
 * read_uncommitted`). `--json`: `{ groups: [{ groupId, lag, partitions: [{ topic, partition,
 * committedOffset, logEndOffset, lag }] }] }`, `lag` being the group's total.
 */
import type { PartitionLag } from '../../client/admin.ts'
import { WeirError } from '../../errors.ts'
import { type Command, EXIT_OK, writeJson, writeOut } from '../command.ts'
import { connectionHelp, connectionOptions, withConnection } from '../connection.ts'
import { formatTable } from '../table.ts'
import { committedText, isolationOf } from './groups.ts'

export const lag: Command = {
  name: 'lag',
  summary: 'how far groups are behind, per partition (all groups, or one)',
  help: `usage: weir lag [<group>] [--isolation LEVEL] [--json] [connection]

Per partition of every topic a group committed offsets for: the committed offset, the end
offset and the lag; then each group's total. Without <group>, every group.

  --isolation LEVEL  lag to the last stable offset (read_committed, default) or to the high
                     watermark (read_uncommitted)
  --json             print { "groups": [{ groupId, lag, partitions: [{ topic, partition,
                     committedOffset, logEndOffset, lag }] }] }

${connectionHelp}
`,
  options: { ...connectionOptions, json: { type: 'boolean' }, isolation: { type: 'string' } },
  positionals: { min: 0, max: 1 },
  run: async args => {
    const isolationLevel = isolationOf(args)
    const named = args.positionals[0]
    return withConnection(args, async ({ weir }) => {
      const admin = weir.admin()
      const listed = (await admin.listGroups()).map(group => group.groupId)
      if (named !== undefined && !listed.includes(named)) {
        throw new WeirError('GROUP_ID_NOT_FOUND', `No group ${named}; weir groups list shows `
          + 'the groups there are.')
      }
      const groupIds = named === undefined ? listed.sort() : [named]
      const groups: Array<{ groupId: string, lag: number, partitions: PartitionLag[] }> = []
      for (const groupId of groupIds) {
        const partitions = await admin.lag(groupId, undefined, { isolationLevel })
        groups.push({ groupId, lag: partitions.reduce((sum, p) => sum + p.lag, 0), partitions })
      }
      if (args.flag('json')) await writeJson({ groups })
      else if (groups.length === 0) await writeOut('no groups\n')
      else {
        const rows = groups.flatMap(group => group.partitions.map(p => [group.groupId, p.topic,
          p.partition, committedText(p), p.logEndOffset, p.lag]))
        await writeOut(formatTable(['GROUP', 'TOPIC', { header: 'PARTITION', right: true },
          { header: 'COMMITTED', right: true }, { header: 'END', right: true },
          { header: 'LAG', right: true }], rows) + '\n'
          + formatTable(['GROUP', { header: 'TOTAL LAG', right: true }],
            groups.map(group => [group.groupId, group.lag])))
      }
      return EXIT_OK
    })
  },
}
