/**
 * `weir groups list | describe | reset | delete`: Kafka's kafka-consumer-groups.sh over Weir's
 * admin client. `--json` prints one JSON document:
 * - list → `{ groups: [{ groupId, state, protocolType }] }`
 * - describe → `{ groupId, state, protocolType, protocol, generationId, leader,
 *   members: [{ memberId, clientId, groupInstanceId?, partitions: [{ topic, partition }] }],
 *   offsets: [{ topic, partition, committedOffset, logEndOffset, lag }] }`
 * - reset → `{ groupId, topic, offsets: [{ partition, offset }] }`
 * - delete → `{ deleted: string[] }`
 *
 * A group the coordinator does not know (state Dead, no committed offsets) is GROUP_ID_NOT_FOUND.
 */
import type { OffsetSpec } from '../../broker/broker.ts'
import type { PartitionLag } from '../../client/admin.ts'
import { WeirError } from '../../errors.ts'
import {
  type Command, EXIT_OK, type Parsed, parseInteger, UsageError, writeJson, writeOut,
} from '../command.ts'
import { connectionHelp, connectionOptions, withConnection } from '../connection.ts'
import { formatTable } from '../table.ts'

const json = { json: { type: 'boolean' } } as const
const isolationHelp = [
  '  --isolation LEVEL  lag to the last stable offset (read_committed, default) or to the high',
  '                     watermark (read_uncommitted)'].join('\n')

export const groupsList: Command = {
  name: 'groups list',
  summary: 'the consumer groups and their states',
  help: `usage: weir groups list [--json] [connection]

Lists the groups the coordinator knows (with members, or only committed offsets).

  --json    print { "groups": [{ groupId, state, protocolType }] }

${connectionHelp}
`,
  options: { ...connectionOptions, ...json },
  positionals: { min: 0, max: 0 },
  run: args => withConnection(args, async ({ weir }) => {
    const groups = (await weir.admin().listGroups())
      .sort((a, b) => a.groupId.localeCompare(b.groupId))
    if (args.flag('json')) await writeJson({ groups })
    else if (groups.length === 0) await writeOut('no groups\n')
    else {
      await writeOut(formatTable(['GROUP', 'STATE', 'TYPE'], groups.map(group =>
        [group.groupId, group.state, group.protocolType === '' ? '-' : group.protocolType])))
    }
    return EXIT_OK
  }),
}

export const groupsDescribe: Command = {
  name: 'groups describe',
  summary: 'a group\'s members, assignments, committed offsets and lag',
  help: `usage: weir groups describe <group> [--isolation LEVEL] [--json] [connection]

Shows a group's state and members with their partitions, then per partition the committed
offset, the end offset and the lag (Kafka's kafka-consumer-groups --describe).

${isolationHelp}
  --json    print { groupId, state, protocolType, protocol, generationId, leader,
            members: [...], offsets: [{ topic, partition, committedOffset, logEndOffset, lag }] }

${connectionHelp}
`,
  options: { ...connectionOptions, ...json, isolation: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  run: async args => {
    const groupId = args.positional(0)
    const isolationLevel = isolationOf(args)
    return withConnection(args, async ({ weir }) => {
      const admin = weir.admin()
      const description = await admin.describeGroup(groupId)
      const offsets = await admin.lag(groupId, undefined, { isolationLevel })
      if (description.state === 'Dead' && offsets.length === 0) {
        throw new WeirError('GROUP_ID_NOT_FOUND', `No group ${groupId}; weir groups list shows `
          + 'the groups there are.')
      }
      const members = description.members.map(member => ({ memberId: member.memberId,
        clientId: member.clientId,
        ...(member.groupInstanceId === undefined ? {}
          : { groupInstanceId: member.groupInstanceId }),
        partitions: description.assignments.find(a => a.memberId === member.memberId)
          ?.partitions ?? [] }))
      const { state, protocolType, protocol, generationId, leader } = description
      if (args.flag('json')) {
        await writeJson({ groupId, state, protocolType, protocol, generationId, leader, members,
          offsets })
        return EXIT_OK
      }
      const owner = (topic: string, partition: number): string => members.find(member =>
        member.partitions.some(p => p.topic === topic && p.partition === partition))
        ?.memberId ?? '-'
      await writeOut(`group ${groupId}  state ${state}  protocol ${protocol || '-'}  `
        + `generation ${generationId}  members ${members.length}\n\n`
        + (members.length === 0 ? '' : formatTable(['MEMBER', 'CLIENT', 'PARTITIONS'],
          members.map(member => [member.memberId, member.clientId,
            member.partitions.map(p => `${p.topic}/${p.partition}`).join(', ') || '-']))
          + '\n')
        + formatTable(['TOPIC', { header: 'PARTITION', right: true },
          { header: 'COMMITTED', right: true }, { header: 'END', right: true },
          { header: 'LAG', right: true }, 'MEMBER'], offsets.map(p => [p.topic, p.partition,
          committedText(p), p.logEndOffset, p.lag, owner(p.topic, p.partition)])))
      return EXIT_OK
    })
  },
}

export const groupsReset: Command = {
  name: 'groups reset',
  summary: 'set a group\'s committed offsets on a topic (group without members)',
  help: `usage: weir groups reset <group> --topic T --to POSITION [--partitions 0,1,...]
                          [--json] [connection]

Sets the group's committed offsets for the topic; the group must have no active members
(NON_EMPTY_GROUP, exit 1, otherwise: stop its consumers first).

  --topic T           the topic
  --to POSITION       earliest | latest | <offset> | @<time>: the first offset at or after
                      <time>, in ms since the epoch or ISO 8601 (e.g. @2025-01-31T12:00:00Z)
  --partitions LIST   only these partitions (default: all)
  --json              print { groupId, topic, offsets: [{ partition, offset }] }

${connectionHelp}
`,
  options: { ...connectionOptions, ...json, topic: { type: 'string' }, to: { type: 'string' },
    partitions: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  run: async args => {
    const groupId = args.positional(0)
    const topic = args.string('topic')
    const toText = args.string('to')
    if (topic === undefined || toText === undefined) {
      throw new UsageError('weir groups reset needs --topic and --to')
    }
    const to = parsePosition(toText)
    const partitions = args.string('partitions')?.split(',')
      .map(text => parseInteger(text, '--partitions', { min: 0 }))
    return withConnection(args, async ({ weir }) => {
      const admin = weir.admin()
      await admin.resetOffsets({ groupId, topic, to,
        ...(partitions === undefined ? {} : { partitions }) })
      const offsets = (await admin.fetchOffsets(groupId))
        .filter(c => c.topic === topic && (partitions?.includes(c.partition) ?? true))
        .sort((a, b) => a.partition - b.partition)
        .map(c => ({ partition: c.partition, offset: c.offset }))
      if (args.flag('json')) await writeJson({ groupId, topic, offsets })
      else {
        await writeOut(`reset group ${groupId} on ${topic}\n`
          + formatTable(['PARTITION', 'OFFSET'], offsets.map(o => [o.partition, o.offset])))
      }
      return EXIT_OK
    })
  },
}

export const groupsDelete: Command = {
  name: 'groups delete',
  summary: 'delete groups without members, with their committed offsets',
  help: `usage: weir groups delete <group>... [--json] [connection]

Deletes groups and their committed offsets; a group must have no active members.

  --json    print { "deleted": [...] }

${connectionHelp}
`,
  options: { ...connectionOptions, ...json },
  positionals: { min: 1, max: 100 },
  run: args => withConnection(args, async ({ weir }) => {
    const groupIds = [...args.positionals]
    await weir.admin().deleteGroups(groupIds)
    if (args.flag('json')) await writeJson({ deleted: groupIds })
    else await writeOut(groupIds.map(id => `deleted group ${id}\n`).join(''))
    return EXIT_OK
  }),
}

export function isolationOf(args: Parsed): 'read_committed' | 'read_uncommitted' {
  const level = args.string('isolation') ?? 'read_committed'
  if (level !== 'read_committed' && level !== 'read_uncommitted') {
    throw new UsageError(`--isolation is read_committed or read_uncommitted (got '${level}')`)
  }
  return level
}

export function committedText(lag: PartitionLag): string | number {
  return lag.committedOffset < 0 ? '-' : lag.committedOffset
}

/** earliest | latest | <offset> | @<ms or ISO time> → what Admin.resetOffsets takes. */
export function parsePosition(text: string): OffsetSpec | { offset: number } {
  if (text === 'earliest' || text === 'latest') return text
  if (text.startsWith('@')) {
    const time = text.slice(1)
    const timestamp = /^\d+$/.test(time) ? Number(time) : Date.parse(time)
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new UsageError(`--to @<time> takes ms since the epoch or an ISO 8601 time `
        + `(got '${time}')`)
    }
    return { timestamp }
  }
  return { offset: parseInteger(text, '--to (earliest, latest, an offset or @time)',
    { min: 0 }) }
}
