/**
 * `wx-mp-svr/core` is the protocol alone: importing it loads no HTTP framework, no logger and no
 * emulator. Checked in a child process (a fresh module graph) with a resolve hook that records
 * every specifier the import asks for, and Node's CommonJS cache.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The specifiers and CommonJS files loaded by importing `entry` (a path under the root). */
function loadedBy(entry: string): { specifiers: string[]; cjs: string[] } {
  const script = `
    import { register, createRequire } from 'node:module'
    import { MessageChannel } from 'node:worker_threads'
    const { port1, port2 } = new MessageChannel()
    const specifiers = []
    port1.on('message', (s) => specifiers.push(s))
    port1.unref()
    const hook = 'export async function initialize({ port }) { globalThis.port = port }\\n' +
      'export async function resolve(specifier, context, next) { globalThis.port.postMessage(specifier); return next(specifier, context) }'
    register('data:text/javascript,' + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] })
    await import(${JSON.stringify(root + entry)})
    await new Promise((r) => setTimeout(r, 50))
    const cjs = Object.keys(createRequire(import.meta.url).cache)
    console.log(JSON.stringify({ specifiers, cjs }))
  `
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
  if (out.status !== 0) throw new Error(out.stderr)
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as { specifiers: string[]; cjs: string[] }
}

t.test('importing the core entry loads no Fastify, pino or emulator', async (t) => {
  const { specifiers, cjs } = loadedBy('src/core/index.ts')
  t.ok(specifiers.some((s) => /callback-protocol/.test(s)), 'the hook saw the core modules load')
  t.same(specifiers.filter((s) => /^(fastify|pino|pino-pretty|commander)$|emulator|\/server\/|\/cli\//.test(s)), [], 'no framework, logger, CLI, server or emulator module asked for')
  t.same(cjs.filter((p) => /node_modules[\\/](fastify|pino|pino-pretty|commander)[\\/]/.test(p)), [], 'none in the CommonJS cache either')
})

t.test('the package entry does load Fastify (the check above can fail)', async (t) => {
  const { cjs } = loadedBy('src/index.ts')
  t.ok(cjs.some((p) => /node_modules[\\/]fastify[\\/]/.test(p)))
})

t.test('package.json exports the entry and the core, api and emulator subpaths, each with types', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> }
  for (const [subpath, dir] of [['.', ''], ['./core', 'core/'], ['./api', 'api/'], ['./emulator', 'emulator/']] as const) {
    t.same(pkg.exports[subpath], { types: `./dist/${dir}index.d.ts`, default: `./dist/${dir}index.js` }, subpath)
  }
})
