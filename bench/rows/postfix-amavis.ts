// Placeholder until filled in below.
import type { Row } from './types'
export const postfixAmavisRow: Row = {
  id: 'postfix-amavis',
  title: 'Postfix + amavisd-new + clamd',
  usesWorkers: false,
  copies: 1,
  loadFactor: 0.2,
  unavailable: async () => 'not set up yet',
  start: async () => {
    throw new Error('not set up')
  },
}
