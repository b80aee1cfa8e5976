/**
 * Checks that the servers answer what they should, so the benchmark never measures a fast wrong
 * answer: the echo of the pushed text, addressed back to its sender, encrypted and signed in safe
 * mode.
 */
import { WxMpCrypto } from '../../src/core/crypto.js'
import { parseReply } from '../../src/core/reply.js'
import { account, type Push, type PushMode } from './pushes.js'

async function post(url: string, push: Push): Promise<{ status: number; body: string }> {
  const res = await fetch(url + push.path, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: push.body })
  return { status: res.status, body: await res.text() }
}

/** Sends `pushes` one by one and throws on the first wrong answer. Returns how many were checked. */
export async function verifyReplies(url: string, mode: PushMode | 'ceiling', pushes: readonly Push[]): Promise<number> {
  const crypto = new WxMpCrypto({ token: account.token, aesKey: account.aesKey, appId: account.appId })
  for (const push of pushes) {
    const { status, body } = await post(url, push)
    const fail = (why: string): never => {
      throw new Error(`${mode}: wrong reply (${why}): HTTP ${status} ${body.slice(0, 300)}`)
    }
    if (status !== 200) fail('status')
    if (mode === 'ceiling') {
      if (!body.startsWith('<xml>')) fail('not XML')
      continue
    }
    let xml = body
    if (mode === 'safe') {
      try {
        xml = crypto.openReply(body)
      } catch (err) {
        fail(`cannot open the envelope: ${(err as Error).message}`)
      }
    }
    let parsed: ReturnType<typeof parseReply> | undefined
    try {
      parsed = parseReply(xml)
    } catch (err) {
      fail(`not a reply: ${(err as Error).message}`)
    }
    const { toUserName, fromUserName, reply } = parsed!
    if (toUserName !== push.fromUserName) fail('ToUserName is not the sender')
    if (fromUserName !== account.toUserName) fail('FromUserName is not the account')
    if (reply.msgType !== 'text') fail('MsgType is not text')
    if (reply.msgType === 'text' && reply.content !== push.content) fail('Content is not the echo')
  }
  return pushes.length
}
