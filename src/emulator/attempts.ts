/**
 * WeChat's delivery policy: up to 3 attempts of the same request, and the problems a failed
 * attempt is reported as.
 *
 * The schedule, as WeChat's servers keep it (observed in the raw logs of many bots):
 * - every attempt is a **new connection** carrying the **identical** query string and body;
 * - an attempt with no complete answer is dropped at 5 s and the next one starts at once, so a
 *   server that never answers sees attempts at 0 / 5 / 10 s;
 * - an attempt that fails before its deadline (a non-200 status, a refused or reset connection,
 *   or an HTTP 200 whose body WeChat refuses) is re-pushed almost at once (< 1 s later), not
 *   after 5 s;
 * - the delivery ends at the first valid HTTP 200 answer; after the last failed attempt the user
 *   sees the failure notice.
 *
 * Official reference ("微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求，总共重试三次"):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 *
 * @module
 */
import { performance } from 'node:perf_hooks'
import { problem, type Problem, type ProblemCode } from './problems.js'
import { exchange as httpExchange, type AttemptError, type Exchange, type ExchangeOptions } from './transport.js'

/**
 * WeChat's deadline for one attempt, in milliseconds.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export const ATTEMPT_TIMEOUT_MS = 5000
/**
 * How many times WeChat sends a push before giving up.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export const MAX_ATTEMPTS = 3
/**
 * How long WeChat waits before re-pushing after an attempt that failed before its deadline
 * (a non-200 status, a refused connection, a reply it cannot use). Observed: under a second.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export const REPUSH_DELAY_MS = 300

/**
 * Why an attempt failed: a transport failure ({@link AttemptError}), or `invalid_reply`: HTTP 200
 * came in time, but with a body WeChat refuses (it re-pushes at once, as after a non-200 status).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export type AttemptFailure = AttemptError | 'invalid_reply'

/**
 * One attempt as reported: when it started (ms after the first attempt), the HTTP status (0 when
 * no response came), the time it took, and, when it failed, why (`timeout`, `refused`,
 * `redirect`, `http_status`, `invalid_reply`, …).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface Attempt {
  /** Milliseconds from the start of the first attempt to the start of this one. */
  at: number
  status: number
  ms: number
  error?: AttemptFailure
}

const problemCodes: Record<AttemptError, ProblemCode> = {
  timeout: 'TIMEOUT',
  refused: 'CONNECTION_REFUSED',
  reset: 'CONNECTION_RESET',
  dns: 'DNS_FAILURE',
  tls: 'TLS_FAILURE',
  network: 'NETWORK_ERROR',
  redirect: 'REDIRECT',
  http_status: 'HTTP_STATUS',
}

function which(attempts: readonly number[]): string {
  return attempts.length === 1 ? `Attempt ${attempts[0]}` : `Attempts ${attempts.join(', ')}`
}

const gatewayStatuses: Readonly<Record<number, string>> = {
  502: 'Bad Gateway: the proxy could not connect to the server behind it',
  503: 'Service Unavailable: the proxy has no server to pass the request to',
  504: 'Gateway Timeout: the server behind the proxy accepted the request but did not answer in time',
}

/**
 * Whether a non-200 answer is a reverse proxy's own error page (nginx, Caddy, a load balancer)
 * rather than the bot's: a gateway status with an HTML body, or a body naming a proxy.
 */
function isProxyErrorPage(ex: Exchange): boolean {
  if (!(ex.status in gatewayStatuses)) return false
  const html = /^\s*<(!doctype\s+)?html/i.test(ex.body) || /text\/html/i.test(ex.contentType ?? '')
  return html || /nginx|openresty|tengine|caddy|apache|envoy|haproxy|cloudflare/i.test(ex.body)
}

/**
 * The problem a failed exchange is reported as, for the attempts (1-based) that failed that way.
 * A proxy's 502/503/504 page is not printed: it says the bot behind the proxy is not answering.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function transportProblem(ex: Exchange, attempts: readonly number[], timeoutMs: number): Problem {
  const error = ex.error ?? 'network'
  const head = which(attempts)
  switch (error) {
    case 'timeout':
      return problem(
        'TIMEOUT',
        `${head}: no complete answer within ${timeoutMs} ms; WeChat drops the connection at 5 s (a push is sent again, 3 times in all). Answer within ~4.5 s, and deliver slow answers another way (a slow-reply strategy, or the customer-service API).`,
      )
    case 'refused':
      return problem('CONNECTION_REFUSED', `${head}: connection refused (${ex.detail ?? ''}). Is the server running, on this host and port?`)
    case 'redirect':
      return problem('REDIRECT', `${head}: HTTP ${ex.status} redirect to ${ex.detail ?? '?'}. WeChat does not follow redirects: use the final URL (mind http→https and trailing-slash redirects).`)
    case 'http_status':
      if (isProxyErrorPage(ex)) {
        return problem(
          'HTTP_STATUS',
          `${head}: HTTP ${ex.status} from the proxy in front of the bot (${gatewayStatuses[ex.status]}). The server behind the proxy is not answering: is the bot running, and listening on the address in proxy_pass?`,
        )
      }
      return problem('HTTP_STATUS', `${head}: HTTP ${ex.status}; WeChat needs 200 and re-pushes at once after any other status.${ex.body ? ` Body: ${JSON.stringify(ex.body.slice(0, 200))}` : ''}`)
    case 'tls':
      return problem(
        'TLS_FAILURE',
        `${head}: TLS failed (${ex.detail ?? ''}). WeChat needs a certificate from a public CA. To test locally with a self-signed certificate, let the emulator trust it: NODE_EXTRA_CA_CERTS=ca.pem wx-mp-svr send …`,
      )
    default:
      return problem(problemCodes[error], `${head}: ${error} (${ex.detail ?? ''}).`)
  }
}

/**
 * What the delivery needs to know about an HTTP 200 answer: whether WeChat accepts it (a refused
 * one is a failed attempt, re-pushed at once), and the problems found in it.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export interface AnswerReading {
  accepted: boolean
  problems: Problem[]
}

/**
 * Options of {@link deliver}. Every duration is injectable, and so are the transport, the waits
 * and the clock, so that tests run WeChat's 15 s schedule in milliseconds or on a fake clock.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface DeliveryOptions<R extends AnswerReading> {
  /** The deadline of one attempt; WeChat's is {@link ATTEMPT_TIMEOUT_MS}. */
  timeoutMs: number
  /** WeChat makes {@link MAX_ATTEMPTS}. */
  maxAttempts: number
  /** The pause before a re-push after an early failure; default {@link REPUSH_DELAY_MS}. */
  repushDelayMs?: number
  /** Reads each HTTP 200 answer; default: every HTTP 200 is accepted. */
  judge?: (answer: Exchange) => R
  /** One attempt; default: a new `node:http(s)` connection ({@link httpExchange}). */
  exchange?: (url: URL, options: ExchangeOptions) => Promise<Exchange>
  /** Waits `ms`; default a timer. */
  sleep?: (ms: number) => Promise<void>
  /** Monotonic clock in ms, for the attempts' `at`; default `performance.now`. */
  now?: () => number
  /** Called as each attempt ends (the chat shows progress with it). */
  onAttempt?: (attempt: Attempt, number: number) => void
}

/**
 * The outcome of {@link deliver}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface Delivery<R extends AnswerReading = AnswerReading> {
  attempts: Attempt[]
  /** The accepted HTTP 200 exchange, if any. */
  answer?: Exchange
  /** The reading of {@link answer}, or of the last refused HTTP 200 answer when none was accepted. */
  reading?: R
  /** One problem per kind of failure (naming the attempts), then the problems found in answers. */
  problems: Problem[]
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Sends the same request up to `maxAttempts` times, each on a new connection, on WeChat's
 * schedule: the next attempt starts as soon as one times out (0 / 5 / 10 s), or
 * `repushDelayMs` after one that failed early (non-200, refused, a refused reply). Ends at the
 * first accepted HTTP 200 answer.
 *
 * @example
 * ```ts
 * const delivery = await deliver(url, body, { timeoutMs: 5000, maxAttempts: 3, judge })
 * delivery.attempts.map((a) => a.at) // e.g. [0, 5003, 10006] for a server that never answers
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export async function deliver<R extends AnswerReading = AnswerReading>(url: URL, body: string, options: DeliveryOptions<R>): Promise<Delivery<R>> {
  const send = options.exchange ?? httpExchange
  const sleep = options.sleep ?? defaultSleep
  const now = options.now ?? (() => performance.now())
  const repushDelayMs = options.repushDelayMs ?? REPUSH_DELAY_MS
  const attempts: Attempt[] = []
  const problems = new Map<string, { problem?: Problem; ex?: Exchange; numbers: number[] }>()
  let answer: Exchange | undefined
  let reading: R | undefined
  const started = now()
  for (let n = 1; n <= options.maxAttempts; n++) {
    const at = Math.round(now() - started)
    const ex = await send(url, { method: 'POST', body, timeoutMs: options.timeoutMs })
    let failure: AttemptFailure | undefined = ex.error
    if (failure === undefined) {
      reading = options.judge ? options.judge(ex) : undefined
      if (reading === undefined || reading.accepted) {
        answer = ex
      } else {
        failure = 'invalid_reply'
      }
      for (const p of reading?.problems ?? []) {
        const key = `reply:${p.code}`
        if (!problems.has(key)) problems.set(key, { problem: p, numbers: [n] })
      }
    } else {
      const key = `transport:${ex.error}:${ex.status}`
      const seen = problems.get(key)
      if (seen) seen.numbers.push(n)
      else problems.set(key, { ex, numbers: [n] })
    }
    const attempt: Attempt = failure === undefined ? { at, status: ex.status, ms: ex.ms } : { at, status: ex.status, ms: ex.ms, error: failure }
    attempts.push(attempt)
    options.onAttempt?.(attempt, n)
    if (answer !== undefined) break
    // A timeout ends at the deadline, and WeChat pushes again at once; an early failure is
    // re-pushed after a short pause.
    if (n < options.maxAttempts && failure !== 'timeout') await sleep(repushDelayMs)
  }
  const list = [...problems.values()].map(({ problem: p, ex, numbers }) => p ?? transportProblem(ex!, numbers, options.timeoutMs))
  const outcome: Delivery<R> = { attempts, problems: list }
  if (answer !== undefined) outcome.answer = answer
  if (reading !== undefined) outcome.reading = reading
  return outcome
}
