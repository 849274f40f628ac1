// test_nodes.mjs - binary nodes: our codec against Baileys' (both ways)
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
//
// usage: node test_nodes.mjs [COUNT] [SEED]
//
// interop_nodes (C, tests/interop/interop_nodes.c) generates COUNT random
// trees with our encoding. For each one, Baileys' decodeBinaryNode must
// give the same tree; Baileys' encodeBinaryNode of the tree must decode
// with our decoder to the same tree (interop_nodes check), and must be
// byte-identical to ours where both libraries choose the same encodings.
import { spawnSync } from 'node:child_process'
import { bin, fail, loadPeer } from './common.mjs'

const count = Number(process.argv[2] || 300)
const seed = process.argv[3] || '1'
const B = await loadPeer('baileys')
const helper = bin('interop_nodes')

// Canonical form for comparison: content compared as bytes (Baileys
// returns token/packed/JID content as a string and BINARY as a Buffer)
function canonBaileys (node) {
  const attrs = Object.entries(node.attrs || {}).sort()
  let content = null
  if (Array.isArray(node.content)) {
    content = node.content.map(canonBaileys)
  } else if (typeof node.content === 'string') {
    content = 'hex:' + Buffer.from(node.content, 'utf8').toString('hex')
  } else if (node.content !== undefined && node.content !== null) {
    content = 'hex:' + Buffer.from(node.content).toString('hex')
  }
  return { tag: node.tag, attrs, content }
}

function canonTree (tree) {
  const attrs = tree.attrs.map(([k, v]) => [k, v]).sort()
  let content = null
  if (Array.isArray(tree.content)) {
    content = tree.content.map(canonTree)
  } else if (tree.content && tree.content.hex !== undefined) {
    content = 'hex:' + tree.content.hex
  } else if (tree.content && tree.content.string !== undefined) {
    content = 'hex:' + Buffer.from(tree.content.string, 'utf8').toString('hex')
  }
  return { tag: tree.tag, attrs, content }
}

// Tree -> Baileys BinaryNode (attrs object in order; no content key when
// there is none: Baileys counts any present key as content)
function toBaileys (tree) {
  const node = { tag: tree.tag, attrs: Object.fromEntries(tree.attrs) }
  if (Array.isArray(tree.content)) {
    node.content = tree.content.map(toBaileys)
  } else if (tree.content && tree.content.hex !== undefined) {
    node.content = Buffer.from(tree.content.hex, 'hex')
  } else if (tree.content && tree.content.string !== undefined) {
    node.content = tree.content.string
  }
  return node
}

const gen = spawnSync(helper, ['gen', seed, String(count)],
  { maxBuffer: 1 << 30, encoding: 'utf8' })
if (gen.status !== 0) fail(`interop_nodes gen: ${gen.status} ${gen.stderr}`)
const cases = gen.stdout.trim().split('\n').map(line => JSON.parse(line))
if (cases.length !== count) fail(`expected ${count} cases, got ${cases.length}`)

let decoded = 0
let identical = 0
let eligible = 0
const back = []
for (const [i, c] of cases.entries()) {
  let node
  try {
    node = await B.decodeBinaryNode(Buffer.from(c.hex, 'hex'))
  } catch (e) {
    fail(`case ${i}: Baileys could not decode our bytes: ${e.message}\n${c.hex.slice(0, 400)}`)
  }
  const got = JSON.stringify(canonBaileys(node))
  const want = JSON.stringify(canonTree(c.tree))
  if (got !== want) {
    fail(`case ${i}: Baileys decoded a different tree\nwant ${want.slice(0, 2000)}\ngot  ${got.slice(0, 2000)}`)
  }
  decoded++
  if (!c.bl) continue
  const hex = Buffer.from(B.encodeBinaryNode(toBaileys(c.tree))).toString('hex')
  if (c.same) {
    eligible++
    if (hex !== c.hex) {
      fail(`case ${i}: Baileys encoded different bytes\nours    ${c.hex.slice(0, 400)}\nBaileys ${hex.slice(0, 400)}`)
    }
    identical++
  }
  back.push(JSON.stringify({ tree: c.tree, hex }))
}

const check = spawnSync(helper, ['check'],
  { input: back.join('\n') + '\n', maxBuffer: 1 << 26, encoding: 'utf8' })
if (check.status !== 0) fail(`interop_nodes check: ${check.stderr}`)
console.log(`ours -> Baileys: ${decoded}/${count} trees decoded identically`)
console.log(`Baileys -> ours: ${check.stdout.trim()}`)
console.log(`byte-identical encodings: ${identical}/${eligible} eligible`)
