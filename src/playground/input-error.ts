/**
 * The one error class of the playground's endpoints: a request the page (or anyone holding the
 * token) sent that cannot be served. The page server turns each code into a 4xx status with the
 * message, which says what is wrong and how to send it right.
 *
 * @module
 */

/**
 * - `MISSING_TOKEN` / `WRONG_TOKEN`: the `?token=` of the printed URL is absent or wrong.
 * - `UNKNOWN_ACTION`: `action` is not one the phone pane has.
 * - `MISSING_FIELD` / `INVALID_FIELD`: a field of the action is absent or malformed.
 * - `TEXT_TOO_LONG`: a message box held more than {@link MAX_TEXT_BYTES} bytes.
 * - `UNKNOWN_EXCHANGE`: no exchange has that id.
 */
export type PlaygroundErrorCode = 'MISSING_TOKEN' | 'WRONG_TOKEN' | 'UNKNOWN_ACTION' | 'MISSING_FIELD' | 'INVALID_FIELD' | 'TEXT_TOO_LONG' | 'UNKNOWN_EXCHANGE'

/** The most a message box may hold, in UTF-8 bytes (WeChat's own limit for one text is 2048). */
export const MAX_TEXT_BYTES = 2048

/** A refused playground request; {@link PlaygroundInputError.code} decides the HTTP status. */
export class PlaygroundInputError extends Error {
  override readonly name = 'PlaygroundInputError' as const
  readonly code: PlaygroundErrorCode

  constructor(code: PlaygroundErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** The HTTP status of each code: 401 without a token, 403 with a wrong one, 404 for an unknown exchange, 413 for oversize text, else 400. */
export function statusOf(code: PlaygroundErrorCode): number {
  switch (code) {
    case 'MISSING_TOKEN':
      return 401
    case 'WRONG_TOKEN':
      return 403
    case 'UNKNOWN_EXCHANGE':
      return 404
    case 'TEXT_TOO_LONG':
      return 413
    default:
      return 400
  }
}
