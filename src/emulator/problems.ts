/**
 * The verdicts the emulator can give, each under a stable code: one table for the codes, their
 * severity and what they mean.
 *
 * An `error` is something WeChat would not accept: the user sees
 * "该公众号暂时无法提供服务，请稍后再试" (or, for `verify`, the admin page says "token验证失败").
 * A `warning` is accepted by WeChat but wrong or risky (a reply that may be cut, a retried push).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */

/**
 * Every problem code with its level. Switch on the code, never on the message text.
 *
 * Transport (one attempt failed; WeChat retries): `TIMEOUT`, `CONNECTION_REFUSED`,
 * `CONNECTION_RESET`, `DNS_FAILURE`, `TLS_FAILURE`, `NETWORK_ERROR`, `REDIRECT`, `HTTP_STATUS`.
 * Reply (HTTP 200 came, its body is judged): the rest.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export const problemCatalogue = {
  TIMEOUT: 'error',
  CONNECTION_REFUSED: 'error',
  CONNECTION_RESET: 'error',
  DNS_FAILURE: 'error',
  TLS_FAILURE: 'error',
  NETWORK_ERROR: 'error',
  REDIRECT: 'error',
  HTTP_STATUS: 'error',
  ECHOSTR_MISMATCH: 'error',
  MALFORMED_XML: 'error',
  NOT_ENCRYPTED: 'error',
  UNEXPECTED_ENCRYPTION: 'error',
  BAD_MSG_SIGNATURE: 'error',
  DECRYPT_FAILED: 'error',
  APPID_MISMATCH: 'error',
  WRONG_TO_USER: 'error',
  WRONG_FROM_USER: 'error',
  UNKNOWN_MSG_TYPE: 'error',
  MISSING_FIELD: 'error',
  NEWS_NO_ARTICLES: 'error',
  NEWS_TOO_MANY_ARTICLES: 'error',
  ENCRYPTED_SUCCESS: 'warning',
  SUCCESS_WHITESPACE: 'warning',
  CREATE_TIME_MISSING: 'warning',
  CREATE_TIME_MILLISECONDS: 'warning',
  CREATE_TIME_NOT_INTEGER: 'warning',
  TEXT_TOO_LONG: 'warning',
  NEWS_COUNT_MISMATCH: 'warning',
  RETRIED: 'warning',
  HELD: 'warning',
  SLOW_REPLY: 'warning',
  PORT_NOT_ALLOWED: 'warning',
} as const satisfies Record<string, ProblemLevel>

/**
 * `error`: WeChat refuses it; `warning`: WeChat accepts it, but it is wrong or risky.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export type ProblemLevel = 'error' | 'warning'

/**
 * A stable problem code; see {@link problemCatalogue}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export type ProblemCode = keyof typeof problemCatalogue

/**
 * One named finding of the emulator: a transport failure, a reply WeChat would refuse, or a
 * warning. `message` is for humans and says how to fix it; `code` is the stable contract.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export interface Problem {
  code: ProblemCode
  level: ProblemLevel
  message: string
}

/**
 * Creates a {@link Problem}, taking its level from {@link problemCatalogue}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function problem(code: ProblemCode, message: string): Problem {
  return { code, level: problemCatalogue[code], message }
}

/**
 * Whether any of `problems` is an error (WeChat would refuse the answer).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function hasError(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.level === 'error')
}
