/**
 * Handler files in real CommonJS and ES-module projects, loaded as the CLI loads them: in a child
 * process without this test runner's TypeScript loader, from a fresh temporary project.
 */
import t from 'tap'
import type { Test } from 'tap'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { computeSignature } from '../../src/index.js'
import { userNode } from './user-node.js'

const run = promisify(execFile)
const loader = new URL('../../dist/cli/load-handlers.js', import.meta.url).href
const bin = fileURLToPath(new URL('../../bin/wx-mp-svr.js', import.meta.url))

/** The package.json `npm init -y` writes today, one with `"type": "module"`, and one without "type". */
const kinds = {
  commonjs: '{ "name": "bot", "version": "1.0.0", "type": "commonjs" }',
  module: '{ "name": "bot", "version": "1.0.0", "type": "module" }',
  untyped: '{ "name": "bot", "version": "1.0.0" }',
} as const

function project(kind: keyof typeof kinds, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), `wx-${kind}-`))
  writeFileSync(join(dir, 'package.json'), kinds[kind])
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return dir
}

interface Outcome {
  /** The reply of onMessage to a text message "hi", or the stack of what it threw. */
  reply?: string
  thrown?: string
  /** The message of the load error, when loading failed. */
  loadError?: string
  /** The project's files after loading. */
  files: string[]
}

/** Loads `file` in `dir` in a child process and calls its onMessage with a text message. */
async function load(dir: string, file: string, env: Record<string, string> = {}): Promise<Outcome> {
  const script = [
    `import { readdirSync } from 'node:fs'`,
    `import { loadHandlers } from ${JSON.stringify(loader)}`,
    'const out = {}',
    'try {',
    `  const h = await loadHandlers(${JSON.stringify(file)}, ${JSON.stringify(dir)})`,
    "  try { out.reply = await h.onMessage({ msgType: 'text', content: 'hi' }, {}) } catch (e) { out.thrown = e.stack }",
    '} catch (e) { out.loadError = e.message }',
    `out.files = readdirSync(${JSON.stringify(dir)}).sort()`,
    'process.stdout.write(JSON.stringify(out))',
  ].join('\n')
  const { stdout } = await run(...userNode(['--input-type=module', '-e', script], env), { cwd: dir })
  return JSON.parse(stdout) as Outcome
}

const throwing = [
  "import type { Handlers } from 'wx-mp-svr'",
  "const apiKey: string = 'sk-written-in-the-file'",
  '',
  "export const onMessage: Handlers['onMessage'] = (msg) => {",
  '  if (apiKey.length > 0 && msg.msgType === "text") {',
  '    throw new Error(`cannot answer ${msg.content}`)',
  '  }',
  '  return undefined',
  '}',
  '',
].join('\n')

for (const kind of ['commonjs', 'module'] as const) {
  t.test(`${kind} project: a handler's error points at bot.ts:LINE:COL, never at a data: URL`, async (t) => {
    const dir = project(kind, { 'bot.ts': throwing })
    const outcome = await load(dir, 'bot.ts')
    t.match(outcome.thrown, /^Error: cannot answer hi\n\s+at .*bot\.ts:6:11\)?$/m, 'the throwing line and column of the source')
    t.notMatch(outcome.thrown, /data:/)
    t.notMatch(outcome.thrown, /sk-written-in-the-file/, 'nothing of the file but its name and position')
    t.same(outcome.files, ['bot.ts', 'package.json'], 'the compiled file is gone')
  })

  t.test(`${kind} project: a handler that throws while loading gets the same positions`, async (t) => {
    const dir = project(kind, { 'bot.ts': `${throwing}throw new Error(\`no config for \${apiKey.length} chars\`)\n` })
    const outcome = await load(dir, 'bot.ts')
    t.match(outcome.loadError, /^Could not load the handler file bot\.ts:\nError: no config for 22 chars\n\s+at .*bot\.ts:10:7\)?$/m)
    t.notMatch(outcome.loadError, /data:|sk-written-in-the-file/)
    t.ok(outcome.loadError!.length < 2000, 'a short message')
  })

  t.test(`${kind} project: local TypeScript files imported the way tsc wants them`, async (t) => {
    const dir = project(kind, {
      'bot.ts': [
        "import { Greeter, Tone } from './greeter.js'",
        "import { suffix } from './suffix'",
        'const greeter = new Greeter(Tone.Loud)',
        'export const onMessage = (msg: { content: string }): string => greeter.greet(msg.content) + suffix',
        '',
      ].join('\n'),
      // Enums and parameter properties: what Node's own type stripping cannot run.
      'greeter.ts': [
        'export enum Tone { Quiet, Loud }',
        'export class Greeter {',
        '  constructor(private readonly tone: Tone) {}',
        '  greet(name: string): string { return this.tone === Tone.Loud ? name.toUpperCase() : name }',
        '}',
        '',
      ].join('\n'),
      'suffix.ts': "export const suffix: string = '!'\n",
    })
    const outcome = await load(dir, 'bot.ts')
    t.equal(outcome.reply, 'HI!')
    t.same(outcome.files, ['bot.ts', 'greeter.ts', 'package.json', 'suffix.ts'])
  })
}

t.test('installed packages stay imports even where tsconfig paths maps their name; other aliases are followed', async (t) => {
  const dir = project('module', {
    'tsconfig.json': '{ "compilerOptions": { "paths": { "greeting": ["./greeting-source.ts"], "@lib/*": ["./lib/*"] } } }',
    'greeting-source.ts': "export const source: string = 'the tsconfig copy'\n",
    'node_modules/greeting/package.json': '{ "name": "greeting", "version": "1.0.0", "type": "module", "exports": "./index.js" }',
    'node_modules/greeting/index.js': "export const source = 'the installed package'\n",
    'lib/shout.ts': 'export const shout = (s: string): string => s.toUpperCase()\n',
    'bot.ts': "import { source } from 'greeting'\nimport { shout } from '@lib/shout'\nexport const onMessage = (): string => shout(source)\n",
  })
  t.equal((await load(dir, 'bot.ts')).reply, 'THE INSTALLED PACKAGE', 'the one Node loads, shared with the rest of the process')
})

t.test('a commonjs project keeps CommonJS semantics in bot.ts: require, __dirname, module.exports', async (t) => {
  const dir = project('commonjs', {
    'bot.ts': [
      "const { basename } = require('node:path') as typeof import('node:path')",
      'module.exports = { onMessage: (msg: { content: string }) => `${msg.content} from ${basename(__dirname)}` }',
      '',
    ].join('\n'),
  })
  const outcome = await load(dir, 'bot.ts')
  t.match(outcome.reply, /^hi from wx-commonjs-/)
})

t.test('where esbuild cannot run, Node 22.18+ runs an ES-module handler itself; elsewhere a clear error', async (t) => {
  // esbuild's documented override of its binary: one that exits at once, as a broken install would.
  const broken = { ESBUILD_BINARY_PATH: '/bin/false' }
  const source = "export const onMessage = (msg: { content: string }): string => `native:${msg.content}`\n"
  const nodeStrips = ['strip', 'transform'].includes(String((process.features as { typescript?: unknown }).typescript))
  const esm = await load(project('module', { 'bot.ts': source }), 'bot.ts', broken)
  if (nodeStrips) t.equal(esm.reply, 'native:hi', `Node ${process.version} strips the types`)
  else t.match(esm.loadError, /^Cannot run the TypeScript file bot\.ts: the esbuild compiler does not run here \(.+\)\. Reinstall .* or on Node 22\.18 or newer make it an ES module/)
  const cjs = await load(project('commonjs', { 'bot.ts': source }), 'bot.ts', broken)
  t.match(cjs.loadError, /^Cannot run the TypeScript file bot\.ts: the esbuild compiler does not run here/, 'Node would refuse export in a CommonJS file')
})

async function rejects(t: Test, dir: string, file: string, pattern: RegExp): Promise<void> {
  const outcome = await load(dir, file)
  t.match(outcome.loadError, pattern)
  t.notMatch(outcome.loadError, /data:/)
}

t.test('top-level await where the file runs as CommonJS: a hint to use .mts or "type": "module"', async (t) => {
  const source = "const greeting = await Promise.resolve('hello')\nexport const onMessage = (): string => greeting\n"
  await rejects(
    t,
    project('commonjs', { 'bot.ts': source }),
    'bot.ts',
    /bot\.ts:1:18: Top-level await is currently not supported[^\n]*\nbot\.ts runs as CommonJS \(package\.json does not say "type": "module"\), where top-level await is not allowed: rename it to bot\.mts, or add "type": "module" to package\.json\.$/,
  )
  await rejects(t, project('module', { 'bot.cts': source }), 'bot.cts', /rename it to bot\.mts\.$/)
  t.equal((await load(project('module', { 'bot.ts': source }), 'bot.ts')).reply, 'hello', 'fine in an ES-module project')
  t.equal((await load(project('commonjs', { 'bot.mts': source }), 'bot.mts')).reply, 'hello', 'fine in a .mts file')
  t.equal((await load(project('untyped', { 'bot.ts': source }), 'bot.ts')).reply, 'hello', 'without "type", Node would run it as an ES module too')
})

t.test('import.meta where the file runs as CommonJS: the same hint, not an empty object at run time', async (t) => {
  const source = "export const onMessage = (): string => new URL('.', import.meta.url).protocol\n"
  await rejects(t, project('commonjs', { 'bot.ts': source }), 'bot.ts', /where import\.meta is not allowed: rename it to bot\.mts, or add "type": "module"/)
  t.equal((await load(project('untyped', { 'bot.ts': source }), 'bot.ts')).reply, 'file:')
})

t.test('export in a .js or .cjs file of a CommonJS project: Node\'s SyntaxError and a hint to use .mjs or "type": "module"', async (t) => {
  const source = "export const onMessage = () => 'hi'\n"
  await rejects(
    t,
    project('commonjs', { 'bot.js': source }),
    'bot.js',
    /SyntaxError: Unexpected token 'export'[\s\S]*\nbot\.js runs as CommonJS \(package\.json does not say "type": "module"\), where import and export are not allowed: rename it to bot\.mjs, or add "type": "module" to package\.json\.$/,
  )
  await rejects(t, project('commonjs', { 'bot.cjs': "import { dirname, join } from 'node:path'\nexports.onMessage = () => join('a')\n" }), 'bot.cjs', /Cannot use import statement outside a module[\s\S]*rename it to bot\.mjs\.$/)
})

t.test('the CLI logs a handler error in a commonjs project with bot.ts:LINE:COL, in one short line', async (t) => {
  const dir = project('commonjs', { 'bot.ts': throwing })
  const child = spawn(...userNode([bin, 'bot.ts', '--port', '0'], { WX_MP_TOKEN: 'stacktoken', NODE_ENV: 'production', LOG_LEVEL: 'info' }), {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stderr.on('data', (d: Buffer) => (out += d))
  const waitFor = async (pattern: RegExp): Promise<RegExpExecArray> => {
    for (;;) {
      const match = pattern.exec(out)
      if (match) return match
      if (child.exitCode !== null) throw new Error(`the bot exited: ${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const [, url] = await waitFor(/listening on (http:\/\/\S+\/wx)/)
  const ts = String(Math.floor(Date.now() / 1000))
  const res = await fetch(`${url}?signature=${computeSignature('stacktoken', ts, '7')}&timestamp=${ts}&nonce=7`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body: `<xml><ToUserName>gh_s</ToUserName><FromUserName>oStack</FromUserName><CreateTime>${ts}</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>7</MsgId></xml>`,
  })
  t.equal(res.status, 200)
  await res.text()
  const [line] = await waitFor(/^.*cannot answer hi.*$/m)
  t.match(line, /bot\.ts:6:11/)
  t.notMatch(line, /data:|sk-written-in-the-file/)
  t.ok(line.length < 2000, `one short log line (${line.length} characters)`)
  child.kill('SIGTERM')
  await once(child, 'exit')
})
