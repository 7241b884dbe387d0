// Store ids: the only part of a store path that comes from outside (command line, metadata), so
// an id is checked against ^[A-Za-z0-9]{8,40}$ before any path is built from it.

import { randomBytes } from 'node:crypto'

const ID_RE = /^[A-Za-z0-9]{8,40}$/

export function isValidId(id: string): boolean {
  return ID_RE.test(id)
}

export function assertValidId(id: string): void {
  if (!isValidId(id)) {
    throw new InvalidIdError(id)
  }
}

export class InvalidIdError extends Error {
  constructor(readonly id: string) {
    super(`invalid store id ${JSON.stringify(id)}: expected 8 to 40 letters and digits`)
    this.name = 'InvalidIdError'
  }
}

/** Returns a new id: 24 hexadecimal digits from 96 random bits. */
export function newId(): string {
  return randomBytes(12).toString('hex')
}
