/**
 * Checks that the servers answer what they should, so the benchmark never measures a fast wrong
 * answer: the echo of the pushed text, addressed back to its sender, encrypted and signed in safe
 * mode.
 */
import { WxMpCrypto } from '../../src/core/crypto.js'
import { parseXmlDocument, readElementText } from '../../src/core/xml.js'
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
      const encrypt = readElementText(body, 'Encrypt')
      const signature = readElementText(body, 'MsgSignature')
      const timestamp = readElementText(body, 'TimeStamp')
      const nonce = readElementText(body, 'Nonce')
      if (!encrypt || !signature || !timestamp || !nonce) fail('envelope incomplete')
      if (!crypto.verify(signature!, timestamp!, nonce!, encrypt!)) fail('MsgSignature does not verify')
      xml = crypto.decrypt(encrypt!)
    }
    const reply = parseXmlDocument(xml)
    if (reply['ToUserName'] !== push.fromUserName) fail('ToUserName is not the sender')
    if (reply['FromUserName'] !== account.toUserName) fail('FromUserName is not the account')
    if (reply['MsgType'] !== 'text') fail('MsgType is not text')
    if (reply['Content'] !== push.content) fail('Content is not the echo')
  }
  return pushes.length
}
