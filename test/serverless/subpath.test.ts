/**
 * `wx-mp-svr/serverless` loads neither Fastify nor pino-pretty; and how much it loads (the sum of
 * the sizes of every module file it loads, reported as a comment). Checked in a child process
 * that records every module resolved (ESM, through a resolve hook) and required (CommonJS).
 */
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** A script that imports `specifier` and prints the module files loaded and their total size. */
function loadScript(specifier: string): string {
  const hook = [
    'let port',
    'export function initialize(data) { port = data.port }',
    'export async function resolve(specifier, context, next) { const r = await next(specifier, context); port.postMessage(r.url); return r }',
  ].join('\n')
  return `
    import { register, createRequire } from 'node:module'
    import { MessageChannel } from 'node:worker_threads'
    import { statSync } from 'node:fs'
    import { fileURLToPath } from 'node:url'
    const { port1, port2 } = new MessageChannel()
    const urls = new Set()
    port1.on('message', (url) => urls.add(url))
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), { data: { port: port2 }, transferList: [port2] })
    await import(${JSON.stringify(specifier)})
    await new Promise((resolve) => setTimeout(resolve, 200))
    port1.close()
    const files = new Set([...urls].filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u)))
    for (const path of Object.keys(createRequire(import.meta.url).cache)) files.add(path)
    let bytes = 0
    for (const file of files) bytes += statSync(file).size
    console.log(JSON.stringify({ files: [...files], bytes }))
  `
}

function load(t: Test, specifier: string, nodeArgs: string[]): { files: string[]; bytes: number } {
  const out = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', loadScript(specifier)], {
    cwd: root,
    encoding: 'utf8',
    // The test runner's own preloads (NODE_OPTIONS) are not what the subpath loads.
    env: { ...process.env, NODE_OPTIONS: '', NODE_V8_COVERAGE: '' },
  })
  t.equal(out.status, 0, out.stderr)
  const loaded = JSON.parse(out.stdout.trim().split('\n').pop()!) as { files: string[]; bytes: number }
  // The test runner follows its child processes by preloading these into them: not the kit's.
  const runner = loaded.files.filter((f) => /node_modules[\\/](pirates|process-on-spawn|fromentries|@tapjs)[\\/]/.test(f))
  return { files: loaded.files.filter((f) => !runner.includes(f)), bytes: loaded.bytes - runner.reduce((sum, f) => sum + statSync(f).size, 0) }
}

const forbidden = /node_modules[\\/](fastify|pino-pretty|@fastify)[\\/]/

t.test('the package exports the subpath', async (t) => {
  const pkg = JSON.parse(readFileSync(root + 'package.json', 'utf8')) as { exports: Record<string, { types: string; default: string }> }
  t.same(pkg.exports['./serverless'], { types: './dist/serverless/index.d.ts', default: './dist/serverless/index.js' })
})

t.test('src/serverless loads neither Fastify nor pino-pretty', async (t) => {
  const { files, bytes } = load(t, root + 'src/serverless/index.ts', ['--import', 'tsx'])
  t.same(files.filter((f) => forbidden.test(f)), [])
  t.ok(files.some((f) => /src[\\/]serverless[\\/]scf\.ts$/.test(f)), 'the hook saw the adapters load')
  // tsx and esbuild are the test's TypeScript loader, not the kit's.
  const loader = /node_modules[\\/](tsx|esbuild|@esbuild|get-tsconfig|resolve-pkg-maps)[\\/]/
  const kept = files.filter((f) => !loader.test(f))
  const ours = kept.filter((f) => !f.includes('node_modules'))
  t.comment(`src/serverless (TypeScript sources, loader excluded): ${kept.length} module files (${ours.length} of the kit's own)`)
  void bytes
})

// The figure a user pays: the built package, imported by its own name (self-reference through `exports`).
t.test('wx-mp-svr/serverless from the build', { skip: existsSync(root + 'dist/serverless/index.js') ? false : 'no build: run npm run build' }, async (t) => {
  const { files, bytes } = load(t, 'wx-mp-svr/serverless', [])
  t.same(files.filter((f) => forbidden.test(f)), [])
  const deps = new Set(files.filter((f) => f.includes('node_modules')).map((f) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(f)?.[1]))
  t.comment(`wx-mp-svr/serverless (dist): ${files.length} module files, ${(bytes / 1024).toFixed(0)} KiB; packages: ${[...deps].sort().join(', ')}`)
})
