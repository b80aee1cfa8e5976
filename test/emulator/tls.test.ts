// A local HTTPS bot with a self-signed certificate: the emulator refuses it as WeChat would, and
// trusts it when started with NODE_EXTRA_CA_CERTS=ca.pem (read by Node at startup, so the
// emulator runs in a child process). The certificate is made with the openssl CLI; without it
// the test is skipped with the reason.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { token } from './stub.js'

const cli = pathToFileURL(join(import.meta.dirname, '../../src/cli/commands/emulator.ts')).href

function runSendInChild(url: string, extraEnv: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const script = `import { runSend, processIo } from ${JSON.stringify(cli)}; process.exitCode = await runSend(${JSON.stringify(url)}, 'hi', { json: true }, processIo())`
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', WX_MP_TOKEN: token, ...extraEnv }
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, cwd: join(import.meta.dirname, '../..') })
  let out = ''
  let err = ''
  child.stdout.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr.on('data', (c: Buffer) => (err += c.toString()))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })))
}

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' })
if (openssl.error || openssl.status !== 0) {
  t.comment(`skipped: the openssl CLI is not available (${openssl.error?.message ?? openssl.stderr}) to make a self-signed certificate`)
  t.pass('skipped without openssl')
} else {
  t.test('self-signed HTTPS: TLS_FAILURE with the hint, then trusted through NODE_EXTRA_CA_CERTS', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'wx-mp-svr-tls-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { cwd: dir, encoding: 'utf8' },
    )
    if (made.status !== 0) {
      t.comment(`skipped: openssl could not make a certificate: ${made.stderr}`)
      return
    }
    const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.pem')) }, (req, res) => {
      req.resume()
      req.on('end', () => res.end('success'))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/wx`

    const refused = await runSendInChild(url, {})
    t.equal(refused.code, 1, refused.err)
    const failure = JSON.parse(refused.out)
    t.match(failure, { ok: false, warnings: [{ code: 'TLS_FAILURE' }] })
    t.match(failure.warnings[0].message, /NODE_EXTRA_CA_CERTS=ca\.pem/)

    const trusted = await runSendInChild(url, { NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') })
    t.equal(trusted.code, 0, trusted.err)
    t.match(JSON.parse(trusted.out), { ok: true, shown: '', attempts: [{ status: 200 }] })
  })
}
