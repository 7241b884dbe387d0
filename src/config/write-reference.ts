// Rewrites docs/config-reference.md from the schema (`npm run docs:config`).

import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'

import { renderConfigReference } from './render'

// Compiled to dist/src/config/, three levels below the repository root.
const target = resolve(__dirname, '../../../docs/config-reference.md')
writeFileSync(target, renderConfigReference())
console.log(`wrote ${target}`)
