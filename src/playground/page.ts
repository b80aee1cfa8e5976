/**
 * The playground page: one HTML document with its style and script inline (under a per-response
 * CSP nonce), its own icon (so the browser never asks for `/favicon.ico`), Chinese labels first
 * and English second, and the accessible names people and tests find things by.
 *
 * @module
 */
import { pageScript } from './page-script.js'
import { pageStyle } from './page-style.js'

/** What varies per response. */
export interface PageOptions {
  /** The CSP nonce of the inline style and script. */
  nonce: string
  /** Shown in the header. */
  handlerFile: string
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** `text` safe inside HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c]!)
}

/** A speech bubble in WeChat green, as an SVG data URL. */
const icon =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%2307c160'/%3E%3Cellipse cx='16' cy='15' rx='10' ry='8' fill='%23fff'/%3E%3Cpath d='M10 21l-2 5 6-3z' fill='%23fff'/%3E%3C/svg%3E"

const option = (value: string, label: string): string => `<option value="${value}">${label}</option>`

/** The page. */
export function renderPage(options: PageOptions): string {
  const nonce = escapeHtml(options.nonce)
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="${icon}">
<title>wx-mp-svr play · ${escapeHtml(options.handlerFile)}</title>
<style nonce="${nonce}">${pageStyle}</style>
</head>
<body>
<header>
  <h1>wx-mp-svr play</h1>
  <span class="file">${escapeHtml(options.handlerFile)}</span>
  <label>模式 Mode
    <select id="mode" name="mode">${option('plain', '明文 plain')}${option('compat', '兼容 compatible')}${option('safe', '安全 safe')}</select></label>
  <label>账号 Account
    <select id="account" name="account">${option('test', '测试号 test')}${option('personal', '个人订阅号 personal')}${option('verified', '认证服务号 verified')}</select></label>
  <label>慢回复策略 Strategy
    <select id="strategy" name="strategy">${option('auto', 'auto')}${option('retry-window', 'retry-window')}${option('next-message', 'next-message')}${option('customer-service', 'customer-service')}${option('success', 'success')}</select></label>
  <button type="button" id="export">导出测试 Export as test</button>
</header>
<main>
  <section class="phone" aria-label="手机 Phone">
    <div class="title">公众号 Official Account</div>
    <div id="log" class="log" role="log" aria-label="对话 Conversation" aria-live="polite"></div>
    <div class="inputs">
      <form id="send-form" autocomplete="off">
        <input type="text" id="message" name="text" aria-label="消息" placeholder="消息 Message">
        <button type="submit" class="primary">发送</button>
      </form>
      <div class="buttons">
        <button type="button" id="follow">关注 Follow</button>
        <button type="button" id="unfollow">取消关注 Unfollow</button>
        <button type="button" id="image">图片 Image</button>
      </div>
      <form id="click-form" class="small" autocomplete="off">
        <input type="text" id="menu-key" name="key" aria-label="菜单 key" placeholder="菜单 key" value="MENU_HELP">
        <button type="submit">菜单 Menu</button>
        <input type="text" id="scene" name="scene" aria-label="场景 scene" placeholder="场景 scene" value="42">
        <button type="submit" form="scan-form">扫码 Scan</button>
      </form>
      <form id="scan-form" hidden></form>
      <form id="location-form" class="small" autocomplete="off">
        <input type="text" id="lat" name="lat" aria-label="纬度 latitude" value="23.134521">
        <input type="text" id="lng" name="lng" aria-label="经度 longitude" value="113.358803">
        <button type="submit">位置 Location</button>
      </form>
      <div id="alert" class="alert" role="alert"></div>
    </div>
  </section>
  <section class="inspector" role="region" aria-label="检查器">
    <h2>检查器 Inspector</h2>
    <div id="inspector-body"></div>
  </section>
</main>
<script nonce="${nonce}">${pageScript}</script>
</body>
</html>
`
}
