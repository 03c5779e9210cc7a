import assert from 'node:assert/strict'
import { test } from 'node:test'
import { stripBidi } from '../src/text.js'

test('stripBidi removes every embedding, override and isolate control', () => {
  const controls = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069']
  for (const c of controls) assert.equal(stripBidi(`a${c}b`), 'ab', `U+${c.codePointAt(0)!.toString(16)}`)
  // The "Trojan Source" trick: an override makes "txt.exe" read as "exe.txt".
  assert.equal(stripBidi('invoice\u202Etxt.exe'), 'invoicetxt.exe')
})

test('stripBidi keeps everything else, right-to-left scripts and marks included', () => {
  const text = 'שלום ☕ مرحبا <b>&amp; \u200E\u200F\u200D 👩‍👩‍👧'
  assert.equal(stripBidi(text), text)
  assert.equal(stripBidi(''), '')
})
