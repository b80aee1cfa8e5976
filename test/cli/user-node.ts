/**
 * Node as a user starts it: tap hooks every child process it sees spawned (NODE_OPTIONS with its
 * process-info loader, which also wraps CommonJS compilation), so children that must behave like
 * a user's `node` are started through `env -i` with only the variables given.
 */
import { dirname } from 'node:path'

/** The command and arguments that run `command ...args` with exactly `env` (plus PATH, this node first, and HOME). */
export function userCommand(command: string, args: string[], env: Record<string, string> = {}): [string, string[]] {
  const base = { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, HOME: process.env['HOME'] ?? '', ...env }
  return ['/usr/bin/env', ['-i', ...Object.entries(base).map(([k, v]) => `${k}=${v}`), command, ...args]]
}

/** The command and arguments that run `node ...args` (this node) with exactly `env` (plus PATH and HOME). */
export function userNode(args: string[], env: Record<string, string> = {}): [string, string[]] {
  return userCommand(process.execPath, args, env)
}
