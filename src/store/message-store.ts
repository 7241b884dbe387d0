// A message store directory (quarantine or archive): each message is `<id>.eml` (the message as
// stored) plus `<id>.json` (its metadata). Both files are written to a temporary name in the same
// directory, fsynced and renamed, the metadata last. The directory is fsynced after the renames.
// A crash therefore leaves either no entry or a complete one, never a half-written file under a
// final name. Listing skips temporary files and `.eml` files without metadata.

import { promises as fs } from 'node:fs'
import path from 'node:path'

import { asContent, contentLength, type ContentLike } from '../message/content'
import { assertValidId, isValidId, newId } from './ids'

export interface StoredMetadata {
  id: string
  /** The statuses that put the message here, e.g. ["as/spam"]. */
  status: string[]
  group: string
  envelope: { from: string; to: string[] }
  clientIp: string
  /** ISO 8601 time the gateway received the message. */
  arrival: string
  /** Size of the .eml file in bytes. */
  size: number
  /** Reasons for storing the message, one sentence each. */
  reasons: string[]
  /** Haraka transaction id of the message. */
  transaction: string
  /** Number of the virtual copy within its message. */
  copy: number
}

export type NewEntry = Omit<StoredMetadata, 'id' | 'size'>

const TEMP_PREFIX = '.tmp-'

export class MessageStore {
  constructor(readonly dir: string) {}

  /** Writes a message and its metadata; returns the metadata with the new id. */
  async add(content: ContentLike, entry: NewEntry): Promise<StoredMetadata> {
    await fs.mkdir(this.dir, { recursive: true })
    const id = newId()
    const metadata: StoredMetadata = { id, ...entry, size: contentLength(content) }
    try {
      await this.writeAtomic(`${id}.eml`, content)
      await this.writeAtomic(`${id}.json`, Buffer.from(`${JSON.stringify(metadata, null, 2)}\n`))
      await syncDirectory(this.dir)
    } catch (err) {
      await this.remove(id).catch(() => undefined)
      throw new Error(`writing ${id} to ${this.dir} failed: ${(err as Error).message}`, { cause: err })
    }
    return metadata
  }

  /** Replaces the metadata of an existing entry, atomically as `add` writes it. */
  async updateMetadata(metadata: StoredMetadata): Promise<void> {
    assertValidId(metadata.id)
    await this.writeAtomic(`${metadata.id}.json`, Buffer.from(`${JSON.stringify(metadata, null, 2)}\n`))
    await syncDirectory(this.dir)
  }

  /** Removes both files of an entry; a missing file is not an error. */
  async remove(id: string): Promise<void> {
    assertValidId(id)
    await Promise.all(
      [`${id}.json`, `${id}.eml`].map((name) =>
        fs.unlink(path.join(this.dir, name)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err
        }),
      ),
    )
  }

  async read(id: string): Promise<{ metadata: StoredMetadata; content: Buffer }> {
    assertValidId(id)
    const [json, content] = await Promise.all([
      fs.readFile(path.join(this.dir, `${id}.json`), 'utf8'),
      fs.readFile(path.join(this.dir, `${id}.eml`)),
    ])
    return { metadata: JSON.parse(json) as StoredMetadata, content }
  }

  /** Returns the metadata of every complete entry, oldest arrival first. */
  async list(): Promise<StoredMetadata[]> {
    const names = await fs.readdir(this.dir)
    const entries: StoredMetadata[] = []
    for (const name of names) {
      if (!name.endsWith('.json') || name.startsWith(TEMP_PREFIX)) continue
      const id = name.slice(0, -'.json'.length)
      if (!isValidId(id) || !names.includes(`${id}.eml`)) continue
      entries.push(JSON.parse(await fs.readFile(path.join(this.dir, name), 'utf8')) as StoredMetadata)
    }
    return entries.sort((a, b) => a.arrival.localeCompare(b.arrival))
  }

  private async writeAtomic(name: string, data: ContentLike): Promise<void> {
    const temp = path.join(this.dir, `${TEMP_PREFIX}${process.pid}-${name}`)
    try {
      const handle = await fs.open(temp, 'wx', 0o640)
      try {
        // Written range by range: the ranges of a large copy are views of the received message.
        for (const part of asContent(data)) await handle.writeFile(part)
        await handle.sync()
      } finally {
        await handle.close()
      }
      await fs.rename(temp, path.join(this.dir, name))
    } catch (err) {
      await fs.unlink(temp).catch(() => undefined)
      throw err
    }
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
