// common.mjs - shared helpers for the interop tests (tests/interop/test_*.mjs)
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
//
// The tests run from the npm directory in the build tree (CMake copies
// every tests/interop/*.mjs there), so `import 'baileys'` resolves to the
// pinned peer that npm_setup.sh installed. When that setup found the npm
// registry unreachable it wrote STATUS=unreachable: the tests then exit 77
// (ctest skip) with a message; any other missing peer is a failure.
import { readFileSync } from 'node:fs'
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
