// The limit row: smtp-source straight into smtp-sink, the fastest any relay on this machine can be.

import type { Row } from './types'

export const limitRow: Row = {
  id: 'limit',
  title: 'limit: smtp-source -> smtp-sink',
  usesWorkers: false,
  copies: 1,
  loadFactor: 3,
  unavailable: async () => null,
  start: async (services) => ({ port: services.sinkPort, components: [], stop: async () => undefined }),
}
