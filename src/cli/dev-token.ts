/**
 * The temporary development token: used when `WX_MP_TOKEN` is not set outside production, kept
 * in a git-ignored file next to the handler so that a restart keeps it (and a `chat` started with
 * it keeps working).
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** The file next to the handler that keeps the development token. */
export const DEV_TOKEN_FILE = '.wx-mp-svr-dev-token'

/** The development token and where it lives. */
export interface DevToken {
  token: string
  /** The file it was read from or written to. */
  path: string
  /** `read`: kept from an earlier run; `written`: new and saved; `unsaved`: new, the file could not be written. */
  source: 'read' | 'written' | 'unsaved'
}

const shape = /^[A-Za-z0-9]{16,32}$/

/** 16 letters and digits. */
function newToken(): string {
  return randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')
}

/** The development token of the handler at `handlerPath`: the saved one, or a new one saved now. */
export function devTokenFor(handlerPath: string): DevToken {
  const path = join(dirname(handlerPath), DEV_TOKEN_FILE)
  try {
    const saved = readFileSync(path, 'utf8').trim()
    if (shape.test(saved)) return { token: saved, path, source: 'read' }
  } catch {
    // none yet
  }
  const token = newToken()
  try {
    writeFileSync(path, token + '\n', { mode: 0o600 })
    return { token, path, source: 'written' }
  } catch {
    return { token, path, source: 'unsaved' }
  }
}
