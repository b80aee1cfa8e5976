/**
 * The `wx-mp-svr` command line: run a bot (default command), emulate WeChat (`verify`, `send`,
 * `chat`), and use the API (`menu`, `token`).
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { registerApiCommands } from './commands/api.js'
import { registerEmulatorCommands } from './commands/emulator.js'
import { registerPlayCommand } from './commands/play.js'
import { registerServeCommand } from './commands/serve.js'
import { printCliError } from './error-printer.js'
import { settingsHelpText } from '../server/settings.js'

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }
    return pkg.version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

/** Builds the program (exported for tests and `--help` checks). */
export function createProgram(): Command {
  const program = new Command('wx-mp-svr')
    .description('WeChat Official Account (微信公众号) message server kit. Run a bot: wx-mp-svr bot.ts [--port 5001]')
    .version(version())
    .showHelpAfterError()
    .addHelpText('after', `\n${settingsHelpText()}\n`)
  registerServeCommand(program)
  registerEmulatorCommands(program)
  registerApiCommands(program)
  registerPlayCommand(program)
  return program
}

/**
 * Runs the CLI. Configuration errors print one clear line (naming the variable and the fix) and
 * exit 1; nothing prints a stack trace for a mistake the user can fix.
 */
export async function run(argv: string[] = process.argv): Promise<void> {
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
