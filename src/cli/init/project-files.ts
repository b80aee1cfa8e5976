/**
 * The files `wx-mp-svr init` writes: a bot, `.env.example` (generated from the settings table),
 * a `.gitignore`, a systemd unit and an nginx snippet, filled in with the chosen port and path.
 *
 * @module
 */
import { settings, type Setting } from '../../server/settings.js'
import { DEV_TOKEN_FILE } from '../dev-token.js'

/** What the files are filled in with. */
export interface ProjectChoices {
  /** The port the bot listens on (127.0.0.1). */
  port: number
  /** The callback path. */
  path: string
  /** The project's name (the unit's description). */
  name: string
}

/** `bot.ts`: echo, a welcome, and a slow answer, written with the named handler types. */
export function botFile(): string {
  return `/**
 * 一个公众号机器人 · A WeChat Official Account bot. Run it: npx wx-mp-svr bot.ts
 *
 * - text: answered with the same text (echo);
 * - "/slow": answered after 8 seconds, like an LLM call. WeChat waits 5 s only; the kit still
 *   delivers the answer (the banner says how: "slow replies: …", see the README);
 * - a new follower: welcomed.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { OnError, OnMessage, OnSubscribe } from 'wx-mp-svr'

export const onMessage: OnMessage = async (msg, ctx) => {
  if (msg.msgType !== 'text') return '我现在只看得懂文字。'
  if (msg.content.trim() === '/slow') {
    // Pass ctx.signal to fetch or your LLM client: it aborts only when nobody will use the answer.
    await sleep(8_000, undefined, { signal: ctx.signal })
    return '想好了：这是一个 8 秒后才准备好的回答。'
  }
  ctx.log.debug({ length: msg.content.length }, 'echo')
  return msg.content
}

export const onSubscribe: OnSubscribe = (event) =>
  event.qrScene ? \`欢迎关注！你是扫描场景 \${event.qrScene} 的二维码来的。\` : '欢迎关注！发一句话给我，我会原样回复；发 /slow 试试慢回答。'

export const onError: OnError = () => '抱歉，出了点问题，请稍后再试。'
`
}

function envValue(value: string | number | boolean): string {
  const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value)
  return /[\s#"'\\]/.test(text) ? JSON.stringify(text) : text
}

/**
 * `.env.example`: every row of the settings table, commented (Chinese first), then the CLI's own
 * variables. Required settings are left active and empty; the others commented out at their default.
 */
export function envExampleFile(): string {
  const lines = [
    '# wx-mp-svr 的配置 · wx-mp-svr configuration',
    '# 复制为 .env 并填写；.env 不要提交到 git。 Copy to .env and fill it in; never commit .env.',
    '# 环境变量优先于此文件。 Variables already in the environment win over the file.',
    '',
  ]
  for (const s of settings as readonly Setting[]) {
    const required = s.required === undefined ? '' : s.required === 'always' ? ' (required)' : ` (required ${s.required})`
    lines.push(`# ${s.zh}`, `# ${s.en.replace(/`/g, '')}${required}`)
    if (s.required === 'always') lines.push(`${s.variable}=`)
    else lines.push(`# ${s.variable}=${s.default === undefined ? '' : envValue(s.default)}`)
    lines.push('')
  }
  lines.push(
    '# 命令行程序读取的变量 · read by the wx-mp-svr command',
    '# 监听端口 · the port to listen on',
    '# PORT=5001',
    '# 监听地址（在 nginx 之后保持 127.0.0.1） · the interface (keep 127.0.0.1 behind nginx)',
    '# HOST=127.0.0.1',
    '# 日志级别：fatal、error、warn、info、debug（记录消息文字）、trace、silent · log level (debug logs message text)',
    '# LOG_LEVEL=info',
    '# production：未设置 WX_MP_TOKEN 时报错，而不是使用临时令牌 · production: a missing WX_MP_TOKEN is an error, not a temporary token',
    '# NODE_ENV=production',
    '',
  )
  return lines.join('\n')
}

/** `.gitignore`: dependencies, secrets and the development token. */
export function gitignoreFile(): string {
  return ['node_modules/', '.env', DEV_TOKEN_FILE, ''].join('\n')
}

/** The package.json scripts `init` adds (existing ones are kept). */
export function packageScripts(choices: ProjectChoices): Record<string, string> {
  return {
    start: `wx-mp-svr bot.ts --port ${choices.port} --path ${choices.path}`,
    chat: `wx-mp-svr chat http://127.0.0.1:${choices.port}${choices.path}`,
  }
}

/** How long systemd waits after SIGTERM: the drain (60 s by default) and a margin. */
const STOP_TIMEOUT_S = 70

/** A systemd unit running node directly (no npm process), restarted on failure and at boot. */
export function systemdUnitFile(choices: ProjectChoices): string {
  return `# /etc/systemd/system/${choices.name}.service — then: sudo systemctl daemon-reload && sudo systemctl enable --now ${choices.name}
# Assumes the project is in /srv/${choices.name} (npm ci there) and a user "${choices.name}" owns it:
#   sudo useradd --system --home /srv/${choices.name} ${choices.name}
[Unit]
Description=${choices.name} (wx-mp-svr WeChat bot)
After=network-online.target
Wants=network-online.target

[Service]
User=${choices.name}
WorkingDirectory=/srv/${choices.name}
Environment=NODE_ENV=production
# WX_MP_TOKEN and the other secrets; also read from .env in WorkingDirectory.
EnvironmentFile=-/srv/${choices.name}/.env
# node itself, not npx or npm: no resident npm process, and the PID systemd signals is the bot.
ExecStart=/usr/bin/node /srv/${choices.name}/node_modules/wx-mp-svr/bin/wx-mp-svr.js bot.ts --port ${choices.port} --path ${choices.path}
Restart=always
RestartSec=2
# SIGTERM lets pushes in flight finish for up to WX_MP_DRAIN_TIMEOUT_MS (60 s): wait a little longer.
TimeoutStopSec=${STOP_TIMEOUT_S}
NoNewPrivileges=true
ProtectSystem=full
PrivateTmp=true

[Install]
WantedBy=multi-user.target
`
}

/** An nginx location for the callback path, proxied to the bot. */
export function nginxSnippetFile(choices: ProjectChoices): string {
  return `# nginx: put this inside your server { listen 443 ssl; server_name your.domain; … } block.
# WeChat calls ports 80 and 443 only; the bot listens on 127.0.0.1:${choices.port}.
location = ${choices.path} {
    proxy_pass http://127.0.0.1:${choices.port};   # no URI: the path ${choices.path} is kept
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_read_timeout 20s;     # the kit answers or releases every attempt within WeChat's 5 s
    client_max_body_size 64k;   # the kit refuses larger bodies with 413
}

location = /healthz {
    allow 127.0.0.1;
    deny all;
    proxy_pass http://127.0.0.1:${choices.port};
}
`
}
