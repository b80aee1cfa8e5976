/**
 * The playground page's style sheet: a phone pane drawn like the WeChat app (grey chat, green
 * user bubbles, white bot bubbles, cards), the inspector and the timeline.
 *
 * @module
 */

/** The CSS, inlined into the page under its nonce. */
export const pageStyle = String.raw`
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body { font: 14px/1.45 system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #1f2329; background: #f2f3f5; display: flex; flex-direction: column; }
header { display: flex; flex-wrap: nowrap; align-items: center; gap: 10px; padding: 8px 16px; background: #2e3238; color: #fff; }
header h1 { font-size: 16px; margin: 0 4px 0 0; font-weight: 600; white-space: nowrap; }
header label { display: flex; align-items: center; gap: 6px; font-size: 13px; white-space: nowrap; }
header select { font: inherit; padding: 2px 4px; border-radius: 4px; border: 0; max-width: 170px; }
header .file { color: #b8bcc2; font-family: ui-monospace, monospace; font-size: 12px; max-width: 160px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
header button { margin-left: auto; }
main { flex: 1; display: flex; gap: 16px; padding: 16px; min-height: 0; }
.phone { width: 380px; flex: none; display: flex; flex-direction: column; border-radius: 22px; background: #ededed; border: 8px solid #1f2329; overflow: hidden; }
.phone .title { background: #ededed; border-bottom: 1px solid #d6d6d6; text-align: center; padding: 10px; font-weight: 600; }
.log { flex: 1; overflow-y: auto; padding: 12px 10px; display: flex; flex-direction: column; gap: 10px; }
.row { display: flex; align-items: flex-start; gap: 8px; }
.row.user { flex-direction: row-reverse; }
.avatar { width: 34px; height: 34px; border-radius: 4px; flex: none; display: grid; place-items: center; font-size: 12px; color: #fff; background: #07c160; }
.row.user .avatar { background: #576b95; }
.row.kefu .avatar { background: #fa9d3b; }
.bubble { max-width: 250px; padding: 8px 10px; border-radius: 6px; background: #fff; white-space: pre-wrap; word-break: break-word; cursor: pointer; outline-offset: 2px; }
.row.user .bubble { background: #95ec69; }
.bubble.selected { outline: 2px solid #1aad19; }
.bubble .tag { display: inline-block; font-size: 11px; padding: 0 4px; margin-right: 4px; border-radius: 3px; background: #fa9d3b; color: #fff; }
.bubble .tag.placeholder { background: #b2b2b2; }
.bubble .late { display: block; font-size: 11px; color: #888; margin-top: 2px; }
.card { width: 230px; }
.card .media { height: 90px; border-radius: 4px; background: repeating-linear-gradient(45deg, #d9d9d9, #d9d9d9 8px, #e6e6e6 8px, #e6e6e6 16px); display: grid; place-items: center; color: #555; font-size: 12px; text-align: center; padding: 4px; word-break: break-all; }
.card .caption { font-weight: 600; margin-top: 4px; }
.card .desc { color: #888; font-size: 12px; }
.card .article + .article { border-top: 1px solid #eee; margin-top: 6px; padding-top: 6px; }
.notice { align-self: center; max-width: 300px; font-size: 12px; color: #fff; background: #cacaca; padding: 3px 8px; border-radius: 4px; cursor: pointer; }
.notice.selected { outline: 2px solid #1aad19; }
.typing { font-size: 12px; color: #888; padding-left: 44px; }
.inputs { background: #f7f7f7; border-top: 1px solid #d6d6d6; padding: 8px; display: flex; flex-direction: column; gap: 6px; }
.inputs form { display: flex; gap: 6px; margin: 0; }
.inputs input[type=text] { flex: 1; min-width: 0; font: inherit; padding: 6px 8px; border: 1px solid #d6d6d6; border-radius: 4px; }
.inputs .small input[type=text] { width: 60px; flex: 1 1 60px; }
button { white-space: nowrap; font: inherit; padding: 5px 10px; border-radius: 4px; border: 1px solid #c8c8c8; background: #fff; cursor: pointer; }
button.primary { background: #07c160; border-color: #07c160; color: #fff; }
.buttons { display: flex; flex-wrap: wrap; gap: 6px; }
.inspector { flex: 1; min-width: 0; overflow-y: auto; background: #fff; border-radius: 8px; padding: 12px 16px; }
.inspector h2 { margin: 0 0 8px; font-size: 16px; }
.inspector h3 { margin: 14px 0 4px; font-size: 13px; color: #555; }
.inspector pre { margin: 0; padding: 8px; background: #f6f8fa; border-radius: 4px; font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; max-height: 180px; overflow: auto; }
.problems li { margin-bottom: 2px; }
.problems code { font-weight: 600; }
.problems .error code { color: #d4380d; }
.problems .warning code { color: #d48806; }
.timeline { position: relative; }
.attempts { list-style: none; margin: 0; padding: 0; }
.axis { position: relative; height: 16px; margin: 0 16px 0 220px; font-size: 11px; color: #888; border-bottom: 1px solid #ccc; }
.axis span { position: absolute; transform: translateX(-50%); }
.lane { display: flex; align-items: center; height: 24px; }
.lane .label { width: 220px; flex: none; font-size: 12px; white-space: nowrap; }
.lane .track { position: relative; flex: 1; height: 14px; margin-right: 16px; background: #fafafa; }
.bar { position: absolute; top: 0; height: 14px; border-radius: 3px; min-width: 3px; }
.bar.answered { background: #07c160; }
.bar.held { background: #faad14; }
.bar.timed-out, .bar.failed { background: #f5222d; }
.bar.in-flight { background: #91caff; }
.bar.handler { background: #576b95; }
.bar.handler.error { background: #f5222d; }
.empty { color: #888; }
.alert { color: #d4380d; min-height: 1em; font-size: 12px; }
`
