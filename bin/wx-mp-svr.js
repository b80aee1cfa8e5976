#!/usr/bin/env node
// The published entry point: runs the compiled CLI (built by `npm ci` / `npm install` through `prepare`).
import('../dist/cli/main.js').then(
  ({ run }) => run(process.argv),
  (err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
      console.error('wx-mp-svr: the package is not built. Run `npm ci` (or `npm run build`) in the project first.')
    } else {
      console.error(err)
    }
    process.exitCode = 1
  },
)
