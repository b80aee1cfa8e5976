/**
 * One HTTP attempt, as WeChat's servers make it: a hard deadline for the whole exchange (the
 * response body included), no redirects followed, a short-lived connection.
 *
 * Built on `node:http`/`node:https` rather than `fetch`: fetch refuses "bad ports" (6000, 6665…)
 * that a developer's server may well use, and hides the socket error codes that tell a refused
 * connection from a reset one.
 *
 * Official reference (5 s per attempt, 3 attempts):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 *
 * @module
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { performance } from 'node:perf_hooks'

/**
 * Why an attempt failed, or `undefined` when an HTTP 200 came back in time:
 * `timeout` (no complete answer before the deadline), `refused`, `reset` (the connection closed
 * without an answer), `dns`, `tls` (certificate or handshake), `network` (anything else),
 * `redirect` (a 3xx: WeChat does not follow it), `http_status` (any other status than 200).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export type AttemptError = 'timeout' | 'refused' | 'reset' | 'dns' | 'tls' | 'network' | 'redirect' | 'http_status'

/**
 * The outcome of one attempt.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface Exchange {
  /** The HTTP status; 0 when no response came. */
  status: number
  /** Milliseconds from sending to the end of the response (or the failure). */
  ms: number
  error?: AttemptError
  /** The socket error or redirect target, for messages. */
  detail?: string
  /** The response body (UTF-8); empty when none. */
  body: string
  /** The response's Content-Type, if any. */
  contentType?: string
}

/**
 * Options of {@link exchange}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface ExchangeOptions {
  method: 'GET' | 'POST'
  body?: string
  /** The deadline of the whole attempt. */
  timeoutMs: number
}

function classify(err: NodeJS.ErrnoException): AttemptError {
  const code = err.code ?? ''
  if (code === 'ECONNREFUSED') return 'refused'
  if (code === 'ECONNRESET' || code === 'EPIPE' || err.message === 'socket hang up') return 'reset'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns'
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return 'tls'
  if (code === 'ETIMEDOUT') return 'timeout'
  return 'network'
}

/**
 * Makes one request and never throws: every failure becomes an {@link Exchange} with `error`.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export function exchange(url: URL, options: ExchangeOptions): Promise<Exchange> {
  const started = performance.now()
  const elapsed = (): number => Math.round(performance.now() - started)
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<Exchange>((resolve) => {
    let settled = false
    let status = 0
    let contentType: string | undefined
    const finish = (result: Pick<Exchange, 'error' | 'detail' | 'body'>): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const outcome: Exchange = { status, ms: elapsed(), body: result.body }
      if (result.error !== undefined) outcome.error = result.error
      if (result.detail !== undefined) outcome.detail = result.detail
      if (contentType !== undefined) outcome.contentType = contentType
      resolve(outcome)
    }
    const headers: Record<string, string | number> = { 'User-Agent': 'Mozilla/4.0', Accept: '*/*', Pragma: 'no-cache' }
    let payload: Buffer | undefined
    if (options.body !== undefined) {
      payload = Buffer.from(options.body, 'utf8')
      headers['Content-Type'] = 'text/xml'
      headers['Content-Length'] = payload.length
    }
    // agent: false → one connection per attempt, closed afterwards (no pooled sockets left behind).
    const req = request(url, { method: options.method, headers, agent: false })
    const timer = setTimeout(() => {
      finish({ error: 'timeout', detail: `no complete answer within ${options.timeoutMs} ms`, body: '' })
      req.destroy()
    }, options.timeoutMs)
    req.on('error', (err: NodeJS.ErrnoException) => {
      finish({ error: classify(err), detail: err.code ? `${err.code}: ${err.message}` : err.message, body: '' })
    })
    req.on('response', (res: IncomingMessage) => {
      status = res.statusCode ?? 0
      contentType = res.headers['content-type']
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', (err: NodeJS.ErrnoException) => finish({ error: classify(err), detail: err.message, body: '' }))
      res.on('aborted', () => finish({ error: 'reset', detail: 'the response was cut off', body: '' }))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        if (status >= 300 && status < 400) {
          finish({ error: 'redirect', detail: res.headers.location ?? '(no Location header)', body })
        } else if (status !== 200) {
          finish({ error: 'http_status', detail: `HTTP ${status}`, body })
        } else {
          finish({ body })
        }
      })
    })
    req.end(payload)
  })
}
