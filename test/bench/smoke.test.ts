/**
 * A fast smoke run of `npm run bench` (#5): tiny request counts and a short deadline, no
 * thresholds (benchmarks are not tests): the script runs end to end and writes its results with
 * the keys the README and CI read.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)

t.test('npm run bench -- --quick writes the results JSON', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-mp-svr-bench-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'latest.json')
  // Below Linux's ephemeral range (32768–60999), where outgoing connections of other tests take ports.
  const portBase = String(10_000 + Math.floor(Math.random() * 20_000))
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out, '--port-base', portBase], {
    cwd: join(import.meta.dirname, '../..'),
    timeout: 28_000,
  })
  t.match(stdout, /\| ceiling .*\n.*\| plain .*\n.*\| safe /, 'prints the table')

  const results = JSON.parse(readFileSync(out, 'utf8'))
  t.match(results.machine, { nproc: Number, cpuModel: String, node: process.version, pinned: Boolean })
  for (const target of ['ceiling', 'plain', 'safe']) {
    t.match(
      results.results[target],
      { reqPerSec: Number, latencyP50Ms: Number, latencyP99Ms: Number, cpuUsPerReq: Number, peakRssMb: Number, errors: 0, non2xx: 0, verifiedReplies: 6 },
      `${target}: figures, no errors, replies verified`,
    )
  }
  t.match(results.ratios, { plain: Number, safe: Number })
  t.match(results.met, { plainCpuRatio: Boolean, safeCpuRatio: Boolean, peakRssMb: Boolean })
  t.match(results.deadline, { pushes: 50, answeredSuccess: 50, server: { lines: 50 } }, 'every push answered success at the deadline')
})
