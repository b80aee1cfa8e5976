/**
 * Human-readable reports of emulator results, for the terminal: what the phone shows, each
 * attempt, every problem.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */
import type { Attempt } from './attempts.js'
import type { SendResult } from './emulator.js'
import type { Problem } from './problems.js'
import type { VerifyResult } from './verify.js'

function indent(text: string, first: string, rest: string): string {
  return text
    .split('\n')
    .map((line, i) => (i === 0 ? first : rest) + line)
    .join('\n')
}

function formatProblem(p: Problem): string {
  return indent(`${p.level === 'error' ? '✗' : '!'} ${p.code}: ${p.message}`, '  ', '    ')
}

function formatAttempt(a: Attempt, i: number): string {
  const status = a.status === 0 ? 'no response' : `HTTP ${a.status}`
  return `  ${i + 1}. ${status} · ${a.ms} ms${a.error ? ` · ${a.error}` : ''}`
}

/**
 * The report of `wx-mp-svr send`: the phone, the attempts, the problems.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function formatSendResult(result: SendResult): string {
  const lines: string[] = []
  lines.push(result.ok ? 'The phone shows:' : 'The phone shows (WeChat failure notice):')
  lines.push(result.shown === '' ? '  (nothing: no reply)' : indent(result.shown, '  │ ', '  │ '))
  lines.push('Attempts:', ...result.attempts.map(formatAttempt))
  if (result.warnings.length > 0) lines.push('Problems:', ...result.warnings.map(formatProblem))
  return lines.join('\n') + '\n'
}

/**
 * The report of `wx-mp-svr verify`: ✓, or the reason the admin page would refuse the URL.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export function formatVerifyResult(result: VerifyResult): string {
  const lines: string[] = []
  if (result.ok) {
    lines.push(`✓ URL verified: HTTP 200, echostr echoed exactly (${result.ms} ms).`)
  } else {
    const status = result.status === 0 ? 'no response' : `HTTP ${result.status}`
    lines.push(`✗ Verification fails (${status}, ${result.ms} ms): the admin page would refuse this URL ("token验证失败" / "请求URL超时").`)
  }
  lines.push(...result.warnings.map(formatProblem))
  return lines.join('\n') + '\n'
}

/**
 * One reply of `wx-mp-svr chat` as a chat bubble: the time it took and what the phone shows,
 * then the problems.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function formatBubble(result: SendResult): string {
  const ms = result.attempts.reduce((sum, a) => sum + a.ms, 0)
  const last = result.attempts[result.attempts.length - 1]
  const tries = result.attempts.length > 1 ? ` ×${result.attempts.length}` : ''
  const why = !result.ok && last?.error ? `${last.error}${tries}, ` : tries ? `${tries.trim()}, ` : ''
  const label = `  ◀ [${why}${ms} ms] `
  const body = result.shown === '' ? '(no reply)' : result.shown
  const lines = [indent(body, label, ' '.repeat(label.length))]
  lines.push(...result.warnings.map((p) => indent(`${p.level === 'error' ? '✗' : '!'} ${p.code}: ${p.message}`, '    ', '      ')))
  return lines.join('\n') + '\n'
}
