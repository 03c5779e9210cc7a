#!/usr/bin/env node
// `npx dx-check <url>`: the conformance checker (scripts/check/), run through tsx from
// wherever it is called.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('./check/main.ts')
process.exitCode = await main(process.argv.slice(2))
