/**
 * The CLI's one error printer: every command reports a failure the same way, one line starting
 * `wx-mp-svr:` that says what to do, with WeChat's errcode, errmsg and hint for API failures.
 * A stack trace is printed only for what is not a mistake the user can fix (a bug).
 *
 * @module
 */
import { isWxMpApiError } from '../api/errors.js'
import { isWxMpError } from '../core/errors.js'

/** The text {@link printCliError} writes for `err` (ending in a newline). */
export function formatCliError(err: unknown): string {
  if (isWxMpApiError(err)) {
    const lines = [
      `wx-mp-svr: WeChat API ${err.method ?? ''} ${err.path} failed`.replace('  ', ' '),
      err.code === 'WECHAT_ERRCODE' ? `  errcode: ${err.errcode}` : `  failure: ${err.code.toLowerCase()}`,
      `  errmsg:  ${err.errmsg}`,
    ]
    if (err.hint) lines.push(`  hint:    ${err.hint}`)
    return lines.join('\n') + '\n'
  }
  if (isWxMpError(err)) return `wx-mp-svr: ${err.message}\n`
  if (err instanceof Error) return `wx-mp-svr: ${err.stack ?? err.message}\n`
  return `wx-mp-svr: ${String(err)}\n`
}

/** Writes `err` to `stderr` as {@link formatCliError} formats it. */
export function printCliError(err: unknown, stderr: { write(chunk: string): unknown } = process.stderr): void {
  stderr.write(formatCliError(err))
}
