/**
 * `wx-mp-svr init [dir]`: a new bot project in `dir` (default: here) — `bot.ts`, `.env.example`,
 * `.gitignore`, the `package.json` scripts, a systemd unit and an nginx snippet — never
 * overwriting a file: what exists is left alone and listed as skipped.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join, relative, resolve } from 'node:path'
import type { Command } from 'commander'
import { WxMpError } from '../../core/errors.js'
import { settingOf } from '../../server/settings.js'
import { DEV_TOKEN_FILE } from '../dev-token.js'
import { botFile, envExampleFile, gitignoreFile, nginxSnippetFile, packageScripts, systemdUnitFile, type ProjectChoices } from '../init/project-files.js'

/** Flags of `init`. */
export interface InitFlags {
  port?: string
  path?: string
}

/** What `init` did. */
export interface InitResult {
  /** Files written (relative to the project directory). */
  written: string[]
  /** Files that existed and were left alone, each with why it matters. */
  skipped: Array<{ file: string; note: string }>
  /** `package.json` scripts added, and those kept because a script of that name existed. */
  scripts: { added: string[]; kept: string[] }
}

function choicesOf(dir: string, flags: InitFlags): ProjectChoices {
  const portText = flags.port ?? '5001'
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new WxMpError('INVALID_CONFIG', `--port must be a port number (1–65535), got "${portText}".`)
  }
  const path = flags.path ?? String(settingOf('WX_MP_PATH').default)
  const pattern = settingOf('WX_MP_PATH').pattern!
  if (!pattern.regex.test(path)) throw new WxMpError('INVALID_CONFIG', `--path must be ${pattern.description}, got "${path}".`)
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'wx-bot'
  return { port, path, name }
}

/**
 * Writes the project files into `dir` (created if needed), never overwriting one. An existing
 * `package.json` gets the scripts it lacks and keeps everything else as it was.
 *
 * @throws {WxMpError} `INVALID_CONFIG` for a bad `--port`/`--path`, or a `package.json` that is not JSON.
 */
export function initProject(dir: string, flags: InitFlags = {}): InitResult {
  const choices = choicesOf(resolve(dir), flags)
  mkdirSync(dir, { recursive: true })
  const result: InitResult = { written: [], skipped: [], scripts: { added: [], kept: [] } }
  const files: Array<[string, string, string]> = [
    ['bot.ts', botFile(), 'your bot is kept as it is'],
    ['.env.example', envExampleFile(), 'compare it with `wx-mp-svr --help` for new settings'],
    ['.gitignore', gitignoreFile(), `make sure it lists .env and ${DEV_TOKEN_FILE}`],
    [join('deploy', `${choices.name}.service`), systemdUnitFile(choices), 'check its port and path'],
    [join('deploy', 'nginx.conf'), nginxSnippetFile(choices), 'check its port and path'],
  ]
  for (const [file, text, note] of files) {
    const path = join(dir, file)
    if (existsSync(path)) {
      result.skipped.push({ file, note })
      continue
    }
    mkdirSync(resolve(path, '..'), { recursive: true })
    // 'wx': fails rather than overwrite a file that appeared since the check.
    writeFileSync(path, text, { flag: 'wx' })
    result.written.push(file)
  }

  const pkgPath = join(dir, 'package.json')
  const scripts = packageScripts(choices)
  if (existsSync(pkgPath)) {
    const text = readFileSync(pkgPath, 'utf8')
    let pkg: { scripts?: Record<string, string> } & Record<string, unknown>
    try {
      pkg = JSON.parse(text) as typeof pkg
    } catch (cause) {
      throw new WxMpError('INVALID_CONFIG', `${pkgPath} is not valid JSON (${(cause as Error).message}): fix it, then run init again.`, { cause })
    }
    const existing = pkg.scripts ?? {}
    const merged = { ...existing }
    for (const [name, command] of Object.entries(scripts)) {
      if (name in existing) result.scripts.kept.push(name)
      else {
        merged[name] = command
        result.scripts.added.push(name)
      }
    }
    if (result.scripts.added.length > 0) {
      const indent = /^[ \t]+/m.exec(text)?.[0] ?? '  '
      writeFileSync(pkgPath, JSON.stringify({ ...pkg, scripts: merged }, null, indent) + '\n')
    }
  } else {
    const pkg = { name: choices.name, version: '0.1.0', private: true, type: 'module', scripts }
    writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n', { flag: 'wx' })
    result.written.push('package.json')
    result.scripts.added.push(...Object.keys(scripts))
  }
  return result
}

/** The report `init` prints. */
export function formatInitResult(dir: string, result: InitResult, cwd: string): string {
  const where = relative(cwd, resolve(dir)) || '.'
  const lines = [`wx-mp-svr init ${where}`]
  for (const file of result.written) lines.push(`  wrote    ${file}`)
  for (const { file, note } of result.skipped) lines.push(`  skipped  ${file} (exists, left alone: ${note})`)
  if (result.scripts.added.length > 0 && !result.written.includes('package.json')) lines.push(`  added    package.json scripts: ${result.scripts.added.join(', ')}`)
  if (result.scripts.kept.length > 0) lines.push(`  kept     package.json scripts of yours: ${result.scripts.kept.join(', ')}`)
  lines.push(
    '',
    'Next:',
    ...(where === '.' ? [] : [`  cd ${where}`]),
    '  npm i wx-mp-svr             (before it is published: npm i <path>/wx-mp-svr-<version>.tgz, see the README)',
    '  cp .env.example .env        then set WX_MP_TOKEN to the Token (令牌) of the admin page',
    '  npx wx-mp-svr bot.ts        and, in another terminal, npm run chat',
    '',
  )
  return lines.join('\n')
}

/** Adds `init [dir]`. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('start a bot project: bot.ts, .env.example, .gitignore, package.json scripts, a systemd unit and an nginx snippet (never overwrites a file)')
    .argument('[dir]', 'the project directory', '.')
    .option('-p, --port <port>', 'the port the bot will listen on', '5001')
    .option('--path <path>', 'the callback path', '/wx')
    .action((dir: string, flags: InitFlags) => {
      const result = initProject(dir, flags)
      process.stdout.write(formatInitResult(dir, result, process.cwd()))
    })
}
