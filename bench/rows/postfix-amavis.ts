// The classic peer: Postfix + amavisd-new + clamd from Debian packages, on loopback ports.
// NOTE: the private Postfix instance (its own config_directory, smtpd on a loopback port,
// content_filter to amavisd-new on another, re-injection smtpd, relayhost = the sink) and the
// amavisd-new configuration (clamd over TCP, SpamAssassin with the Debian-shipped rules, network
// tests pointed at the loopback DNS) are not written yet, so the row reports itself unavailable.
// bench/install.sh already installs postfix, amavisd-new and spamassassin without starting them.

import { existsSync } from 'node:fs'
import type { Row } from './types'

export const postfixAmavisRow: Row = {
  id: 'postfix-amavis',
  title: 'Postfix + amavisd-new + clamd',
  usesWorkers: false,
  copies: 1,
  loadFactor: 0.2,
  async unavailable() {
    const missing = ['/usr/sbin/postfix', '/usr/sbin/amavisd', '/usr/bin/spamassassin'].filter((p) => !existsSync(p))
    if (missing.length > 0) return `not installed: ${missing.join(', ')} (run bench/install.sh)`
    return 'not run: the loopback Postfix + amavisd-new configuration script is not written yet'
  },
  async start() {
    throw new Error('the Postfix + amavisd-new row has no setup script yet')
  },
}
