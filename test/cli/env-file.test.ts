import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadEnvFile, parseEnvFile } from '../../src/cli/env-file.js'

t.test('parses the usual .env forms', async (t) => {
  const vars = parseEnvFile(
    [
      '# comment',
      '',
      'WX_MP_TOKEN=abc123',
      'export WX_MP_APPID = wx1234 # trailing comment',
      'QUOTED="two words # not a comment"',
      "SINGLE='raw \\n stays'",
      'MULTI="line1\\nline2"',
      'EMPTY=',
      'not a line',
    ].join('\n'),
  )
  t.same(vars, {
    WX_MP_TOKEN: 'abc123',
    WX_MP_APPID: 'wx1234',
    QUOTED: 'two words # not a comment',
    SINGLE: 'raw \\n stays',
    MULTI: 'line1\nline2',
    EMPTY: '',
  })
})

t.test('variables already in the environment win', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-env-'))
  const file = join(dir, '.env')
  writeFileSync(file, 'A=from-file\nB=from-file\n')
  const env: Record<string, string | undefined> = { A: 'from-env' }
  t.same(loadEnvFile(file, env), ['B'])
  t.same(env, { A: 'from-env', B: 'from-file' })
})
