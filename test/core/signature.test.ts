import t from 'tap'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { checkSignature, computeSignature, signatureMatches } from '../../src/index.js'
import { officialVectors } from './helpers.js'

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex')

t.test('official worked examples (test/vectors/official-doc.json)', async (t) => {
  const vectors = officialVectors.filter((v) => v.kind === 'signature')
  t.ok(vectors.length >= 3, 'the file has the three URL signature examples')
  for (const v of vectors) {
    t.equal(computeSignature(v.token, v.timestamp, v.nonce), v.expected_signature, `${v.id}: computeSignature`)
    t.equal(computeSignature(...v.parts!), v.expected_signature, `${v.id}: computeSignature over parts`)
    t.equal(checkSignature(v.token, v.expected_signature!, v.timestamp, v.nonce), v.expect_valid, `${v.id}: checkSignature`)
    // numbers are accepted for timestamp and nonce
    t.ok(checkSignature(v.token, v.expected_signature!, Number(v.timestamp), Number(v.nonce)), `${v.id}: numeric timestamp/nonce`)
    if (v.query) {
      const q = new URLSearchParams(v.query)
      t.ok(checkSignature(v.token, q.get('signature')!, q.get('timestamp')!, q.get('nonce')!), `${v.id}: values from the query string`)
    }
  }
})

t.test('more vectors from the official WXBizMsgCrypt samples', async (t) => {
  // Python/Sample.py of the 公众号 sample code (token spamtest): the msg_signature of its compatible-mode push.
  const encrypt =
    'hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE='
  t.equal(computeSignature('spamtest', '1409735669', '1320562132', encrypt), '5d197aaffba7e9b25a30732f161a50dee96bd5fa')
  // WeCom sample (Sample.cpp / Sample.cs, token QDG6eK): the VerifyURL msg_signature over the encrypted echostr.
  t.equal(
    computeSignature('QDG6eK', '1409659589', '263014780', 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=='),
    '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
  )
})

t.test('checkSignature rejects what it must', async (t) => {
  const sig = computeSignature('token', '1700000000', 'nonce')
  t.ok(checkSignature('token', sig, '1700000000', 'nonce'))
  t.ok(checkSignature('token', sig.toUpperCase(), '1700000000', 'nonce'), 'upper-case hex is the same signature')
  t.notOk(checkSignature('other', sig, '1700000000', 'nonce'), 'another token')
  t.notOk(checkSignature('token', sig, '1700000001', 'nonce'), 'another timestamp')
  t.notOk(checkSignature('token', sig, '1700000000', 'nonce2'), 'another nonce')
  t.notOk(checkSignature('token', sig.slice(0, -1), '1700000000', 'nonce'), 'truncated signature')
  t.notOk(checkSignature('token', sig + '0', '1700000000', 'nonce'), 'signature too long')
  t.notOk(checkSignature('token', '', '1700000000', 'nonce'), 'empty signature')
  t.notOk(checkSignature('', computeSignature('', '1', '2'), '1', '2'), 'an empty token never verifies')
  // non-string input from a sloppy query parser must not throw
  const loose = checkSignature as (...args: unknown[]) => boolean
  t.notOk(loose('token', undefined, '1700000000', 'nonce'), 'missing signature')
  t.notOk(loose('token', ['a', 'b'], '1700000000', 'nonce'), 'array signature (repeated query param)')
  t.notOk(loose('token', sig, undefined, 'nonce'), 'missing timestamp')
  t.notOk(loose('token', sig, '1700000000', null), 'missing nonce')
  t.notOk(loose(undefined, sig, '1700000000', 'nonce'), 'missing token')
  // a non-hex string of the right length is simply wrong
  t.notOk(checkSignature('token', 'z'.repeat(40), '1700000000', 'nonce'))
  t.notOk(checkSignature('token', '签'.repeat(40), '1700000000', 'nonce'), 'non-ASCII of the right length')
})

t.test('signatureMatches', async (t) => {
  t.ok(signatureMatches('abc', 'abc'))
  t.ok(signatureMatches('ABC', 'abc'))
  t.notOk(signatureMatches('abd', 'abc'))
  t.notOk(signatureMatches('ab', 'abc'))
})

t.test('property: computeSignature is sha1 of the sorted parts; checkSignature accepts it and no one-character change', async (t) => {
  const part = fc.string({ minLength: 1, maxLength: 24, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789') })
  fc.assert(
    fc.property(part, part, part, fc.nat(39), (token, timestamp, nonce, at) => {
      const sig = computeSignature(token, timestamp, nonce)
      if (sig !== sha1([token, timestamp, nonce].sort().join(''))) return false
      if (!checkSignature(token, sig, timestamp, nonce)) return false
      const flipped = sig.slice(0, at) + (sig[at] === '0' ? '1' : '0') + sig.slice(at + 1)
      return !checkSignature(token, flipped, timestamp, nonce)
    }),
    { numRuns: 300 },
  )
  t.pass('property held')
})
