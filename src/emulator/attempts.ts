/**
 * WeChat's delivery policy: up to 3 attempts of the same request, 5 s each, and the problems a
 * failed attempt is reported as.
 *
 * Official reference ("微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求，总共重试三次"):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 *
 * @module
 */
import { problem, type Problem, type ProblemCode } from './problems.js'
import { exchange, type AttemptError, type Exchange } from './transport.js'

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
 * One attempt as reported: the HTTP status (0 when no response came), the time it took, and,
 * when it failed, why (`timeout`, `refused`, `redirect`, `http_status`, …).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface Attempt {
  status: number
  ms: number
  error?: AttemptError
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

/**
 * The problem a failed exchange is reported as, for the attempts (1-based) that failed that way.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function transportProblem(ex: Exchange, attempts: readonly number[], timeoutMs: number): Problem {
  const error = ex.error ?? 'network'
  const head = which(attempts)
  switch (error) {
    case 'timeout':
      return problem('TIMEOUT', `${head}: no complete answer within ${timeoutMs} ms. WeChat waits 5 s: answer "success" at once and reply later with the customer-service API when the work is slow.`)
    case 'refused':
      return problem('CONNECTION_REFUSED', `${head}: connection refused (${ex.detail ?? ''}). Is the server running, on this host and port?`)
    case 'redirect':
      return problem('REDIRECT', `${head}: HTTP ${ex.status} redirect to ${ex.detail ?? '?'}. WeChat does not follow redirects: use the final URL (mind http→https and trailing-slash redirects).`)
    case 'http_status':
      return problem('HTTP_STATUS', `${head}: HTTP ${ex.status}; WeChat needs 200.${ex.body ? ` Body: ${JSON.stringify(ex.body.slice(0, 200))}` : ''}`)
    case 'tls':
      return problem('TLS_FAILURE', `${head}: TLS failed (${ex.detail ?? ''}). WeChat needs a certificate from a public CA.`)
    default:
      return problem(problemCodes[error], `${head}: ${error} (${ex.detail ?? ''}).`)
  }
}

/**
 * The outcome of {@link deliver}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface Delivery {
  attempts: Attempt[]
  /** The exchange that got HTTP 200, if any. */
  answer?: Exchange
  /** One problem per kind of failure, naming the attempts. */
  problems: Problem[]
}

/**
 * Sends the same request up to `maxAttempts` times, until one gets HTTP 200 in time. Every
 * failure (timeout, refused, redirect, non-200 status) counts as a failed attempt.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export async function deliver(url: URL, body: string, options: { timeoutMs: number; maxAttempts: number }): Promise<Delivery> {
  const attempts: Attempt[] = []
  const failures = new Map<string, { ex: Exchange; numbers: number[] }>()
  let answer: Exchange | undefined
  for (let n = 1; n <= options.maxAttempts; n++) {
    const ex = await exchange(url, { method: 'POST', body, timeoutMs: options.timeoutMs })
    attempts.push(ex.error === undefined ? { status: ex.status, ms: ex.ms } : { status: ex.status, ms: ex.ms, error: ex.error })
    if (ex.error === undefined) {
      answer = ex
      break
    }
    const key = `${ex.error}:${ex.status}`
    const seen = failures.get(key)
    if (seen) seen.numbers.push(n)
    else failures.set(key, { ex, numbers: [n] })
  }
  const problems = [...failures.values()].map(({ ex, numbers }) => transportProblem(ex, numbers, options.timeoutMs))
  return answer === undefined ? { attempts, problems } : { attempts, answer, problems }
}
