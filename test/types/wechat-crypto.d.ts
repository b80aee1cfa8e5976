/**
 * Types for `wechat-crypto` (node-webot/wechat-crypto, CommonJS, ships no types): the independent
 * WXBizMsgCrypt implementation the interop tests in test/core/crypto.test.ts compare against.
 */
declare module 'wechat-crypto' {
  class WXBizMsgCrypt {
    constructor(token: string, encodingAESKey: string, id: string)
    token: string
    id: string
    key: Buffer
    iv: Buffer
    /** `sha1(sort([token, timestamp, nonce, encrypt]).join(''))` as hex. */
    getSignature(timestamp: string, nonce: string, encrypt: string): string
    /** Base64 ciphertext with a random 16-byte prefix. */
    encrypt(text: string): string
    /** The plaintext and the trailing id (appId) as found; does not check the id. */
    decrypt(text: string): { message: string; id: string }
  }
  export = WXBizMsgCrypt
}
