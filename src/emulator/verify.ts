/**
 * URL verification (the 提交 button of 服务器配置): the GET handshake WeChat makes before it
 * accepts a server URL, and the precise reason when it would say "token验证失败".
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 *
 * @module
 */
import { randomInt } from 'node:crypto'
import { computeSignature } from '../core/index.js'
import { randomNonce, withQuery } from './envelope.js'
import { transportProblem } from './attempts.js'
import { problem, type Problem } from './problems.js'
import { exchange } from './transport.js'

/**
 * Options of {@link verifyUrl}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export interface VerifyOptions {
  url: URL
  token: string
  /** The deadline of the request; WeChat's is 5000 ms. */
  timeoutMs: number
  /** Clock in milliseconds. */
  now: () => number
}

/**
 * The outcome of a URL verification: `ok` when the server echoed `echostr` exactly with HTTP 200.
 * `status` is 0 when no response came, with `error` saying why.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export interface VerifyResult {
  ok: boolean
  status: number
  ms: number
  error?: string
  /** The echostr sent. */
  echostr: string
  /** The body received. */
  body: string
  /** Why it failed (errors) and what to watch (warnings). */
  warnings: Problem[]
}

function randomEchostr(): string {
  return String(randomInt(1, 2 ** 47)) + String(randomInt(100_000, 999_999))
}

function echostrHint(body: string, echostr: string): string {
  if (body.trim() === echostr) return ' The body has whitespace around echostr (a trailing newline?): write it exactly.'
  if (body === JSON.stringify(echostr)) return ' The body is a JSON string: send echostr as text/plain, without quotes.'
  if (body.includes(echostr)) return ' echostr is inside a larger body (a template, JSON or HTML): send it alone.'
  if (body === '') return ' The body is empty: the handler did not return echostr (or rejected the signature: check the Token).'
  return ' Check that the server verifies the signature with the same Token and answers the echostr query parameter.'
}

/**
 * Makes the verification request exactly as WeChat does
 * (`GET url?signature&timestamp&nonce&echostr`, one attempt) and judges the answer: HTTP 200 and
 * a body equal to `echostr`, byte for byte.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export async function verifyUrl(options: VerifyOptions): Promise<VerifyResult> {
  const timestamp = Math.floor(options.now() / 1000)
  const nonce = randomNonce()
  const echostr = randomEchostr()
  const target = withQuery(options.url, [
    ['signature', computeSignature(options.token, timestamp, nonce)],
    ['echostr', echostr],
    ['timestamp', String(timestamp)],
    ['nonce', nonce],
  ])
  const warnings: Problem[] = []
  const port = options.url.port
  if (port !== '') {
    warnings.push(
      problem(
        'PORT_NOT_ALLOWED',
        `The URL uses port ${port}: the admin page accepts only http on 80 and https on 443. Fine for local tests; put a proxy or tunnel on 80/443 for the real account.`,
      ),
    )
  }
  const ex = await exchange(target, { method: 'GET', timeoutMs: options.timeoutMs })
  const result: VerifyResult = { ok: false, status: ex.status, ms: ex.ms, echostr, body: ex.body, warnings }
  if (ex.error !== undefined) {
    result.error = ex.error
    warnings.unshift(transportProblem(ex, [1], options.timeoutMs))
    return result
  }
  if (ex.body !== echostr) {
    warnings.unshift(
      problem(
        'ECHOSTR_MISMATCH',
        `The body differs from echostr.\n  sent echostr: ${JSON.stringify(echostr)}\n  got body:     ${JSON.stringify(ex.body.length > 300 ? ex.body.slice(0, 300) + '…' : ex.body)}\n ${echostrHint(ex.body, echostr)}`,
      ),
    )
    return result
  }
  result.ok = true
  return result
}
