/**
 * Entry point of the `weir` command (bin/weir.js, `npm start`): finds the command in the
 * arguments (`weir topics list ...`), answers `--help`, runs it, and exits with a code that means
 * something (see `usage` and command.ts). One file per command (group) under commands/.
 */
import {
  type Command, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, failureLine, parseCommandArgs, UsageError,
} from './command.ts'
import { consume } from './commands/consume.ts'
import { groupsDelete, groupsDescribe, groupsList, groupsReset } from './commands/groups.ts'
import { lag } from './commands/lag.ts'
import { produce } from './commands/produce.ts'
import { projectionRebuild } from './commands/projection.ts'
import { quickstart } from './commands/quickstart.ts'
import { run } from './commands/run.ts'
import { serve } from './commands/serve.ts'
import { topicsCreate, topicsDelete, topicsDescribe, topicsList } from './commands/topics.ts'
import { DEFAULT_URL } from './connection.ts'

const sections: ReadonlyArray<readonly [string, readonly Command[]]> = [
  ['server', [serve]],
  ['topics', [topicsList, topicsCreate, topicsDelete, topicsDescribe]],
  ['records', [produce, consume]],
  ['groups', [groupsList, groupsDescribe, groupsReset, groupsDelete, lag]],
  ['streams', [run, projectionRebuild]],
  ['embedded check', [quickstart]],
]

const commands = sections.flatMap(([, list]) => list)
/** Words that start a two-word command: `topics`, `groups`. */
const groups = new Set(commands.filter(c => c.name.includes(' ')).map(c => c.name.split(' ')[0]!))
/** The column of the summaries in usages: after the longest name ('projection rebuild'). */
const nameWidth = Math.max(...commands.map(c => c.name.length)) + 2

const usage = `usage: weir <command> [options]      weir <command> --help: its options

${sections.map(([title, list]) => `${title}:\n${list.map(command =>
    `  ${command.name.padEnd(nameWidth)}${command.summary}`).join('\n')}`).join('\n')}

Client commands reach a server with --url (default $WEIR_URL, else ${DEFAULT_URL}) and
--token (default $WEIR_TOKEN), or open an embedded broker with --dir PATH (not while a server
runs on that directory). They print tables for people, and one JSON document with --json
(consume --json: one JSON object per record and line).

exit codes:
  0  done; also consume, serve and run stopped by Ctrl-C or SIGTERM
  1  failed: one line "weir: <CODE>: <message>" on stderr, CODE being the WeirError code
     (NETWORK_EXCEPTION: server unreachable; UNKNOWN_TOPIC, GROUP_ID_NOT_FOUND, ...) or
     Node's (ENOENT, EADDRINUSE, ...)
  2  usage error: unknown command or option, bad or missing value
`

function groupUsage(group: string): string {
  const list = commands.filter(command => command.name.startsWith(`${group} `))
  return `usage: weir ${group} <${list.map(c => c.name.split(' ')[1]).join('|')}> [options]\n\n`
    + list.map(c => `  ${c.name.padEnd(nameWidth)}${c.summary}`).join('\n')
    + `\n\nweir ${group} <command> --help: its options\n`
}

/** The command `argv` names and the arguments after its name. */
function find(argv: readonly string[]): { command: Command, rest: string[] } | undefined {
  const [first, second] = argv
  const name = first !== undefined && groups.has(first) ? `${first} ${second}` : first
  const command = commands.find(c => c.name === name)
  if (command === undefined) return undefined
  return { command, rest: argv.slice(name!.split(' ').length) }
}

async function main(argv: readonly string[]): Promise<number> {
  const [first, second] = argv
  if (first === undefined || first === '--help' || first === '-h'
    || (first === 'help' && second === undefined)) {
    process.stdout.write(usage)
    return EXIT_OK
  }
  if (first === 'help') return help(argv.slice(1))
  const found = find(argv)
  if (found === undefined) {
    if (groups.has(first)) {
      const asked = second === '--help' || second === '-h'
      if (!asked) {
        process.stderr.write(`weir: ${second === undefined ? `weir ${first} needs a command`
          : `unknown command '${first} ${second}'`}\n\n`)
      }
      ;(asked ? process.stdout : process.stderr).write(groupUsage(first))
      return asked ? EXIT_OK : EXIT_USAGE
    }
    process.stderr.write(`weir: unknown command '${first}'\n\n${usage}`)
    return EXIT_USAGE
  }
  const { command, rest } = found
  try {
    const parsed = parseCommandArgs(command, rest)
    if (parsed === 'help') {
      process.stdout.write(command.help)
      return EXIT_OK
    }
    return await command.run(parsed)
  } catch (error) {
    if (error instanceof UsageError) {
      const synopsis = command.help.split('\n\n')[0]
      process.stderr.write(`weir ${command.name}: ${error.message}\n\n${synopsis}\n\n`
        + `weir ${command.name} --help: all options\n`)
      return EXIT_USAGE
    }
    process.stderr.write(`${failureLine(error)}\n`)
    if (process.env.WEIR_DEBUG !== undefined && error instanceof Error) {
      process.stderr.write(`${error.stack ?? ''}\n`)
    }
    return EXIT_FAILURE
  }
}

function help(names: readonly string[]): number {
  const found = find(names)
  if (found !== undefined && found.rest.length === 0) {
    process.stdout.write(found.command.help)
    return EXIT_OK
  }
  if (names.length === 1 && groups.has(names[0]!)) {
    process.stdout.write(groupUsage(names[0]!))
    return EXIT_OK
  }
  process.stderr.write(`weir: no command '${names.join(' ')}'\n\n${usage}`)
  return EXIT_USAGE
}

// A reader that goes away (`weir consume t | head`) is not a failure: consume stops on it.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error
})

const code = await main(process.argv.slice(2))
process.exitCode = code
// Exit once stdout is flushed rather than when the event loop is empty: a handle left open by a
// closed client (a keep-alive socket, a timer) must not keep a finished command alive.
if (process.stdout.destroyed) process.exit(code)
else process.stdout.write('', () => process.exit(code))
