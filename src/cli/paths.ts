// Where the package and its default files are, whether it runs from dist/ or from source.

import { existsSync } from 'node:fs'
import path from 'node:path'

export function packageRoot(): string {
  let dir = __dirname
  while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`package.json of haraka-mailgw not found above ${__dirname}`)
    dir = parent
  }
  return dir
}

export function defaultConfigFile(): string {
  return path.join(packageRoot(), 'config', 'mailgw.conf')
}
