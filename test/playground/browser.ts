/**
 * The system Chromium for the playground's browser tests, driven by playwright-core (which
 * downloads no browser). Where `/usr/bin/chromium` (or `WX_MP_TEST_CHROMIUM`) is absent the tests
 * skip with {@link browserSkip}'s reason — unless `WX_MP_TEST_BROWSER=require` (set by CI), where
 * its absence fails the run instead.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

/** The browser binary: Debian's `chromium` package. */
export const chromiumPath = process.env['WX_MP_TEST_CHROMIUM'] ?? '/usr/bin/chromium'

/**
 * `false` when the browser tests can run, else the reason to skip them.
 *
 * @throws when Chromium is missing but `WX_MP_TEST_BROWSER=require`.
 */
export function browserSkip(): string | false {
  if (existsSync(chromiumPath)) return false
  if (process.env['WX_MP_TEST_BROWSER'] === 'require') {
    throw new Error(`WX_MP_TEST_BROWSER=require but ${chromiumPath} is missing: apt-get install chromium fonts-noto-cjk`)
  }
  return `${chromiumPath} is missing (apt-get install chromium fonts-noto-cjk to run them)`
}

/** Flags for a quiet, offline, throwaway headless Chromium. */
const flags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Launches Chromium with a fresh profile; `close()` also removes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'wx-mp-chromium-'))
  // A persistent context is how playwright passes --user-data-dir: a fresh folder per run.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: flags,
    viewport: { width: 1200, height: 720 },
    locale: 'zh-CN',
    acceptDownloads: true,
  })
  return {
    context,
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
