/**
 * Goal: the CLI's contract with scripts outside the data path: `--help` on every command and
 * command group prints its usage on stdout and exits 0; an unknown command, an unknown option, a
 * missing argument or a bad value prints usage on stderr and exits 2; a server that cannot be
 * reached is exit 1 with one line naming NETWORK_EXCEPTION.
 * Method: run `weir` as child processes (no broker needed, except none answering on a port).
 */
import { describe, expect, it } from 'vitest'
import { freePort } from '../helpers/server-child.ts'
import { weir } from './cli-helpers.ts'

const commands = ['serve', 'topics list', 'topics create', 'topics delete', 'topics describe',
  'produce', 'consume', 'groups list', 'groups describe', 'groups reset', 'groups delete', 'lag',
  'run', 'projection rebuild', 'quickstart']

describe('weir usage', () => {
  it('--help (or -h) on every command prints its usage on stdout and exits 0', async () => {
    const results = await Promise.all(commands.map((name, i) =>
      weir([...name.split(' '), i % 2 === 0 ? '--help' : '-h'])))
    results.forEach((result, i) => {
      expect(result.code, commands[i]).toBe(0)
      expect(result.text, commands[i]).toMatch(new RegExp(`^usage: weir ${commands[i]}\\b`))
      expect(result.stderr, commands[i]).toBe('')
    })
  }, 60_000)

  it('the main usage (with the exit codes), a group\'s usage and `weir help <command>` exit 0',
    async () => {
      const [main, topics, help] = await Promise.all([weir([]), weir(['topics', '--help']),
        weir(['help', 'topics', 'create'])])
      expect(main.code).toBe(0)
      expect(main.text).toContain('exit codes:')
      for (const name of commands) expect(main.text).toContain(`  ${name} `)
      expect(topics.code).toBe(0)
      expect(topics.text).toMatch(/^usage: weir topics <list\|create\|delete\|describe>/)
      expect(help.code).toBe(0)
      expect(help.text).toMatch(/^usage: weir topics create <topic>/)
    }, 60_000)

  it('usage errors exit 2 with the message and the usage on stderr, nothing on stdout',
    async () => {
      // Value checks of each option are tested in-process (options.test.ts); these are the
      // kinds of mistake, each through a real process.
      const cases: Array<[string[], RegExp]> = [
        [['frobnicate'], /unknown command 'frobnicate'/],
        [['topics'], /weir topics needs a command/],
        [['consume', 'orders', '--bogus'], /Unknown option '--bogus'/],
        [['consume'], /needs 1 argument/],
        [['topics', 'create', 't', '--partitions', 'many'], /--partitions must be an integer/],
        [['lag', '--dir', '/tmp/x', '--url', 'http://127.0.0.1:1'], /does not go with --url/],
        [['serve', '--dir', '/tmp/x', '--default-partitions', '3'],
          /--default-partitions applies to auto-created topics/],
      ]
      const results = await Promise.all(cases.map(([args]) => weir(args)))
      results.forEach((result, i) => {
        const [args, message] = cases[i]!
        expect(result.code, args.join(' ')).toBe(2)
        expect(result.stderr, args.join(' ')).toMatch(message)
        expect(result.stderr, args.join(' ')).toContain('usage: weir')
        expect(result.text, args.join(' ')).toBe('')
      })
    }, 60_000)

  it('a server that does not answer is exit 1 with one line naming NETWORK_EXCEPTION',
    async () => {
      const url = `http://127.0.0.1:${await freePort()}`
      // The URL from $WEIR_URL, the default of --url.
      const result = await weir(['topics', 'list'], { env: { WEIR_URL: url } })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^weir: NETWORK_EXCEPTION: Cannot reach the Weir server at /)
      expect(result.stderr).toContain(url)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(result.text).toBe('')
    }, 30_000)
})
