// common.mjs - shared helpers for the interop tests (tests/interop/test_*.mjs)
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
//
// The tests run from the npm directory in the build tree (CMake copies
// every tests/interop/*.mjs there), so `import 'baileys'` resolves to the
// pinned peer that npm_setup.sh installed. When that setup found the npm
// registry unreachable it wrote STATUS=unreachable: the tests then exit 77
// (ctest skip) with a message; any other missing peer is a failure.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const SKIP = 77
export const here = dirname(fileURLToPath(import.meta.url))

export function fail (msg) {
  console.error('FAIL: ' + msg)
  process.exit(1)
}

// Import a peer package, or skip the test when npm could not be reached.
export async function loadPeer (name) {
  let status = ''
  try {
    status = readFileSync(join(here, 'STATUS'), 'utf8').trim()
  } catch (e) {
    fail(`no ${join(here, 'STATUS')}: the interop_npm_setup test did not run`)
  }
  if (status === 'unreachable') {
    console.log(`SKIP: the npm registry is unreachable, so ${name} is not installed`)
    process.exit(SKIP)
  }
  try {
    return await import(name)
  } catch (e) {
    fail(`could not import ${name} (status ${status}): ${e.message}`)
  }
}

// Path of a Wharf binary (ctest sets WHARF_BIN_DIR).
export function bin (name) {
  const dir = process.env.WHARF_BIN_DIR
  if (!dir) fail('WHARF_BIN_DIR is not set')
  return join(dir, name)
}

// bin(name), failing the test when the binary is not there.
export function requireBin (name) {
  const path = bin(name)
  if (!existsSync(path)) fail(`binary not found: ${path}`)
  return path
}

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// A promise that rejects after ms (for Promise.race).
export const deadline = (ms, what) =>
  new Promise((resolve, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))

export function check (cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`)
}

const SANITIZER_MARKS = ['ERROR: AddressSanitizer', 'runtime error:', 'ERROR: LeakSanitizer']

// An Error quoting the tail of `log` when it holds a sanitizer report
// from `who`, else null.
export function sanitizerReport (who, log) {
  return SANITIZER_MARKS.some(mark => log.includes(mark))
    ? new Error(`${who} sanitizer report:\n${log.slice(-6000)}`)
    : null
}

// Start wa-sim with `args` and wait (at most ms) for the JSON line it
// prints once listening ({ws_url, control_url, root_key, ...}). Returns
// { proc, info, err }: err collects its stderr (also copied to ours with
// debug). Rejects when it exits or stays silent first.
export async function startSim (args = [], { debug = false, ms = 20000 } = {}) {
  const proc = spawn(requireBin('wa-sim'), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, APP_LOG_LEVEL: 'debug' }
  })
  const sim = { proc, info: null, err: '' }
  proc.stderr.on('data', d => {
    sim.err += d.toString()
    if (debug) process.stderr.write(d)
  })
  let timer
  const silent = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error('timed out: wa-sim start')), ms)
  })
  try {
    sim.info = await Promise.race([
      new Promise((resolve, reject) => {
        let buf = ''
        proc.stdout.on('data', d => {
          buf += d.toString()
          const nl = buf.indexOf('\n')
          if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)))
        })
        proc.on('exit', code => reject(new Error(`wa-sim exited early (${code}):\n${sim.err}`)))
      }),
      silent
    ])
  } catch (err) {
    proc.kill('SIGKILL')
    throw err
  } finally {
    clearTimeout(timer)
  }
  return sim
}

// Stop wa-sim (SIGTERM) and wait for it. Returns an Error for a
// sanitizer report or an exit status other than 0, else null.
export async function stopSim (sim) {
  const { proc } = sim
  const code = proc.exitCode !== null || proc.signalCode !== null
    ? proc.exitCode
    : await new Promise(resolve => {
      proc.on('exit', c => resolve(c))
      proc.kill('SIGTERM')
    })
  return sanitizerReport('wa-sim', sim.err) ||
    (code !== 0 ? new Error(`wa-sim exited with ${code}`) : null)
}
