/**
 * A keyword-reply 公众号 as a Tencent SCF event function behind a function URL.
 * Entry point (执行方法): index.main_handler. See README.md for the deploy steps.
 *
 * Configuration comes from the function's environment variables: WX_MP_TOKEN (and WX_MP_AES_KEY,
 * WX_MP_APPID for safe mode), WX_MP_REDIS_URL (required: each of WeChat's retries may reach a new
 * instance), KEYWORDS_FILE (default: keywords.json next to this module).
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createScfHandler } from 'wx-mp-svr/serverless'
import { checkKeywordFile, keywordBot } from './keywords.js'

// Next to this module (the bundle in dist/, or this source file), unless KEYWORDS_FILE says otherwise.
const file = process.env['KEYWORDS_FILE'] ?? fileURLToPath(new URL('./keywords.json', import.meta.url))
const keywords = checkKeywordFile(JSON.parse(readFileSync(file, 'utf8')))

// Created once per instance (module scope), not per request.
export const main_handler = createScfHandler(keywordBot(keywords))
