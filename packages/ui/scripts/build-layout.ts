// Writes packages/ui/dist/layout.html: the shared layout as a plain template with
// <!--dx:…--> markers, for services written in other languages (docs/protocol.md).
// Run by `npm run build` after the CSS, so the template links the CSS just built.
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { layoutTemplate } from '../src/template.js'

const out = fileURLToPath(new URL('../dist/layout.html', import.meta.url))
mkdirSync(fileURLToPath(new URL('../dist/', import.meta.url)), { recursive: true })
writeFileSync(out, await layoutTemplate())
console.log(`wrote ${out}`)
