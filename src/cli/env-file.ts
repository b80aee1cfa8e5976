/**
 * `.env` files: `KEY=value` lines loaded into the environment before configuration is read.
 * Variables already set in the environment win, as with Node's `--env-file`. Every command (the
 * server, `send`, `chat`, `verify`, `menu`, `token`) reads them by the same rule,
 * {@link loadCommandEnv}.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { WxMpError } from '../core/errors.js'

/**
 * Parses `.env` text: `KEY=value`, optional `export ` prefix, `#` comments, single or double
 * quotes (double quotes understand `\n`), blank lines ignored.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim()
    if (line === '' || line.startsWith('#')) continue
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line)
    if (!match) continue
    const key = match[1]!
    let value = match[2]!
    const quote = value[0]
    if ((quote === '"' || quote === "'") && value.length > 1 && value.lastIndexOf(quote) > 0) {
      value = value.slice(1, value.lastIndexOf(quote))
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"')
    } else {
      value = value.replace(/\s+#.*$/, '').trim()
    }
    vars[key] = value
  }
  return vars
}

/**
 * Loads a `.env` file into `env` without overriding variables that are already set.
 *
 * @returns the names of the variables it set.
 * @throws when the file cannot be read (the caller decides whether a missing file matters).
 */
export function loadEnvFile(path: string, env: Record<string, string | undefined> = process.env): string[] {
  const vars = parseEnvFile(readFileSync(path, 'utf8'))
  const set: string[] = []
  for (const [key, value] of Object.entries(vars)) {
    if (env[key] === undefined) {
      env[key] = value
      set.push(key)
    }
  }
  return set
}

/** The flags every command takes to name its variables file. */
export interface EnvFileFlags {
  /** `--env <file>`: the name Node does not intercept. */
  env?: string
  /** `--env-file <file>`: also accepted (Node checks this flag's file itself; see the README). */
  envFile?: string
}

/** What {@link loadCommandEnv} loaded. */
export interface LoadedEnv {
  /** The file read, or `undefined` when there was none (no flag and no `.env`). */
  path: string | undefined
  /** The variables it set (those already in the environment win and are not listed). */
  names: ReadonlySet<string>
}

/**
 * The one rule every command follows: the file named by `--env` (or `--env-file`), else `.env`
 * in the working directory when it exists; variables already set in the environment win. A file
 * named by a flag must exist.
 *
 * @throws {WxMpError} `INVALID_CONFIG` naming the flag when its file does not exist, or both
 * flags are given.
 */
export function loadCommandEnv(flags: EnvFileFlags, io: { env: Record<string, string | undefined>; cwd: string }): LoadedEnv {
  if (flags.env !== undefined && flags.envFile !== undefined) {
    throw new WxMpError('INVALID_CONFIG', `--env ${flags.env} and --env-file ${flags.envFile}: give one of them (they mean the same).`)
  }
  const flag = flags.env !== undefined ? '--env' : flags.envFile !== undefined ? '--env-file' : undefined
  const file = flags.env ?? flags.envFile ?? '.env'
  const path = resolve(io.cwd, file)
  if (!existsSync(path)) {
    if (flag === undefined) return { path: undefined, names: new Set() }
    throw new WxMpError('INVALID_CONFIG', `${flag} ${file}: no such file (${path}). Fix the path, or leave the flag out to read .env when it exists.`)
  }
  return { path, names: new Set(loadEnvFile(path, io.env)) }
}

/** Adds `--env <file>` and `--env-file <file>` to a command. */
export function withEnvFileOptions(command: Command): Command {
  return command
    .option('--env <file>', 'read variables from this file (default: .env when present; the environment wins)')
    .option('--env-file <file>', 'the same as --env (Node itself stops on a missing --env-file: prefer --env)')
}
