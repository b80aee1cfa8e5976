/**
 * The temporary development token: kept next to the handler, reused while it looks like one,
 * replaced when the file holds something else, and still usable when it cannot be saved.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEV_TOKEN_FILE, devTokenFor } from '../../src/cli/dev-token.js'

t.test('written once, then read back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-devtoken-'))
  const first = devTokenFor(join(dir, 'bot.ts'))
  t.equal(first.source, 'written')
  t.match(first.token, /^[A-Za-z0-9]{16}$/)
  t.equal(first.path, join(dir, DEV_TOKEN_FILE))
  t.equal(statSync(first.path).mode & 0o777, 0o600, 'readable by its owner only')
  const second = devTokenFor(join(dir, 'bot.ts'))
  t.same(second, { ...first, source: 'read' })
})

t.test('a file that does not hold a token is replaced', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-devtoken-'))
  writeFileSync(join(dir, DEV_TOKEN_FILE), 'not a token!\n')
  const token = devTokenFor(join(dir, 'bot.mjs'))
  t.equal(token.source, 'written')
  t.equal(readFileSync(token.path, 'utf8').trim(), token.token)
})

t.test('when the file cannot be written, the run still gets a token (unsaved)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-devtoken-'))
  writeFileSync(join(dir, 'not-a-dir'), '')
  const token = devTokenFor(join(dir, 'not-a-dir', 'bot.ts'))
  t.equal(token.source, 'unsaved')
  t.match(token.token, /^[A-Za-z0-9]{16}$/)
})
