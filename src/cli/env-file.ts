/**
 * `.env` files: `KEY=value` lines loaded into the environment before configuration is read.
 * Variables already set in the environment win, as with Node's `--env-file`.
 *
 * @module
 */
import { readFileSync } from 'node:fs'

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
