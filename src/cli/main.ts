/**
 * The `wx-mp-svr` command line: run a bot (default command), start a project (`init`), emulate
 * WeChat (`verify`, `send`, `chat`), and use the API (`menu`, `token`).
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { Command, CommanderError } from 'commander'
import { registerServeCommand } from './commands/serve.js'
import { loadCommandEnv, withEnvFileOptions, type EnvFileFlags } from './env-file.js'
import { printCliError } from './error-printer.js'
import { settingsHelpText } from '../server/settings.js'

const handlerExtensions = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'])

/**
 * Whether `argv` runs a bot (`wx-mp-svr bot.ts …` with a file a bot can be written in, or
 * `wx-mp-svr serve …`). Such a process does not load the other commands' modules (emulator, API
 * client, playground): a running bot would carry them for nothing, in memory and start-up time.
 */
function runsABot(argv: readonly string[]): boolean {
  const first = argv[2]
  if (first === undefined || first.startsWith('-')) return false
  return first === 'serve' || handlerExtensions.has(extname(first).toLowerCase())
}

type RegisterCommands = (program: Command) => void

/** The registrars of every command but `serve`, once their modules are loaded. */
let otherCommands: RegisterCommands[] | undefined

async function loadOtherCommands(): Promise<void> {
  if (otherCommands !== undefined) return
  const [init, emulator, api, play] = await Promise.all([
    import('./commands/init.js'),
    import('./commands/emulator.js'),
    import('./commands/api.js'),
    import('./commands/play.js'),
  ])
  otherCommands = [init.registerInitCommand, emulator.registerEmulatorCommands, api.registerApiCommands, play.registerPlayCommand]
}

if (!runsABot(process.argv)) await loadOtherCommands()

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }
    return pkg.version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

/**
 * Gives a command registered without them `--env`/`--env-file`, read by the rule every other
 * command follows ({@link loadCommandEnv}) before its action runs.
 */
function withCommandEnv(command: Command | undefined): void {
  if (command === undefined) return
  withEnvFileOptions(command).hook('preAction', (_program, action) => {
    loadCommandEnv(action.opts<EnvFileFlags>(), { env: process.env, cwd: process.cwd() })
  })
}

/**
 * Builds the program (exported for tests and `--help` checks): every command, except in a process
 * started to run a bot, which has the default command alone.
 */
export function createProgram(): Command {
  const program = new Command('wx-mp-svr')
    .description('WeChat Official Account (微信公众号) message server kit. Run a bot: wx-mp-svr bot.ts [--port 5001]')
    .version(version())
    .showHelpAfterError()
    .addHelpText('after', `\n${settingsHelpText()}\n`)
  registerServeCommand(program)
  for (const register of otherCommands ?? []) register(program)
  withCommandEnv(program.commands.find((c) => c.name() === 'play'))
  return program
}

/**
 * Runs the CLI. Configuration errors print one clear line (naming the variable and the fix) and
 * exit 1; nothing prints a stack trace for a mistake the user can fix.
 */
export async function run(argv: string[] = process.argv): Promise<void> {
  if (!runsABot(argv)) await loadOtherCommands()
  const program = createProgram()
  program.exitOverride()
  if (argv.length <= 2) {
    // No arguments: the overview of every command, not the default command's usage error.
    process.stderr.write(program.helpInformation())
    process.exitCode = 1
    return
  }
  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode
      return
    }
    printCliError(err)
    process.exitCode = 1
  }
}
