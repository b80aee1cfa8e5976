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
import type { ShownMessage } from './shown.js'
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

function seconds(ms: number): string {
  return `+${(ms / 1000).toFixed(1)} s`
}

function formatAttempt(a: Attempt, i: number): string {
  const status = a.status === 0 ? 'no response' : `HTTP ${a.status}`
  return `  ${i + 1}. ${status} · ${a.ms} ms${a.error ? ` · ${a.error}` : ''} · sent at ${seconds(a.at)}`
}

const viaLabels: Record<ShownMessage['via'], string> = { reply: 'reply', 'customer-service': '客服 ', notice: 'WeChat' }

/**
 * One line (or block) of the user's timeline: the time after the push, how the message came
 * (`reply`, `客服` for a customer-service message, `WeChat` for the failure notice), the text.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export function formatShownMessage(message: ShownMessage): string {
  const label = `  ${seconds(message.at).padStart(8)}  ${viaLabels[message.via]}  `
  return indent(message.text === '' ? '(empty)' : message.text, label, ' '.repeat(label.length))
}

/**
 * Options of {@link formatSendResult}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export interface SendReportOptions {
  /** Always print the user's timeline (`send --wait`); otherwise only when 客服 messages came. */
  timeline?: boolean
  /** How long the emulator listened, in ms, for the timeline's heading. */
  waitMs?: number
}

/**
 * The report of `wx-mp-svr send`: the phone, the attempts, the problems, and — with `--wait` or
 * when customer-service messages came — every message the user saw, in order, with times.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function formatSendResult(result: SendResult, options: SendReportOptions = {}): string {
  const lines: string[] = []
  lines.push(result.ok ? 'The phone shows:' : 'The phone shows (WeChat failure notice):')
  lines.push(result.shown === '' ? '  (nothing: no reply)' : indent(result.shown, '  │ ', '  │ '))
  lines.push('Attempts:', ...result.attempts.map(formatAttempt))
  const messages = result.messages ?? []
  if (options.timeline || messages.some((m) => m.via === 'customer-service')) {
    const until = options.waitMs ? ` (listened ${seconds(options.waitMs).slice(1)})` : ''
    lines.push(`What the user sees, in order${until}:`)
    lines.push(...(messages.length === 0 ? ['  (nothing)'] : messages.map(formatShownMessage)))
  }
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

/**
 * A customer-service message in `wx-mp-svr chat`, as a bubble marked 客服, with its time after
 * the user's last push.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export function formatCustomerServiceBubble(text: string, msAfterPush: number): string {
  const label = `  ◀ 客服 [${seconds(msAfterPush)}] `
  return indent(text === '' ? '(empty)' : text, label, ' '.repeat(label.length)) + '\n'
}
