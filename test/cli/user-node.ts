/**
 * Node as a user starts it: tap hooks every child process it sees spawned (NODE_OPTIONS with its
 * process-info loader, which also wraps CommonJS compilation), so children that must behave like
 * a user's `node` are started through `env -i` with only the variables given.
 */

/** The command and arguments that run `node ...args` with exactly `env` (plus PATH and HOME). */
export function userNode(args: string[], env: Record<string, string> = {}): [string, string[]] {
  const base = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env }
  return ['/usr/bin/env', ['-i', ...Object.entries(base).map(([k, v]) => `${k}=${v}`), process.execPath, ...args]]
}
