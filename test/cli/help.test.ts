/**
 * `wx-mp-svr --help` lists every WX_MP_* setting from the one settings table; errors print
 * through the one printer.
 */
import t from 'tap'
import { createProgram } from '../../src/cli/main.js'
import { formatCliError } from '../../src/cli/error-printer.js'
import { WxMpError, settings } from '../../src/index.js'

t.test('--help ends with the environment section generated from the settings table', async (t) => {
  let out = ''
  const program = createProgram().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) })
  program.outputHelp()
  t.match(out, /Environment \(also read from \.env\):/)
  for (const s of settings) {
    t.match(out, new RegExp(`^  ${s.variable} +\\S`, 'm'), `${s.variable} is listed`)
  }
  t.match(out, /WX_MP_SLOW_REPLY +.*\(default: auto\)/, 'with its default')
  t.match(out, /WX_MP_TOKEN +.*\(required\)/, 'or that it is required')
})

t.test('one error printer: a config error is one line, a bug keeps its stack', async (t) => {
  t.equal(formatCliError(new WxMpError('INVALID_CONFIG', 'WX_MP_PATH must be a path.')), 'wx-mp-svr: WX_MP_PATH must be a path.\n')
  const bug = formatCliError(new TypeError('x is undefined'))
  t.match(bug, /^wx-mp-svr: TypeError: x is undefined\n\s+at /)
  t.equal(formatCliError('odd'), 'wx-mp-svr: odd\n')
})

t.test('#15: every command takes --env <file> (and --env-file), and init is listed', async (t) => {
  const program = createProgram()
  const commands = new Map(program.commands.map((c) => [c.name(), c]))
  t.ok(commands.has('init'), 'init')
  const menu = commands.get('menu')!
  const withEnv = [...['serve', 'verify', 'send', 'chat', 'token', 'play'].map((name) => commands.get(name)!), ...menu.commands]
  t.equal(withEnv.filter(Boolean).length, 8, 'serve, verify, send, chat, token, play, menu push, menu show')
  for (const command of withEnv) {
    const flags = command.options.map((o) => o.long)
    t.ok(flags.includes('--env') && flags.includes('--env-file'), `${command.name()} takes --env and --env-file`)
  }
})
