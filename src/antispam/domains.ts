// Registered (organizational) domains from the public suffix list, through haraka-tld, the list
// Haraka itself uses: `www.shop.example.co.uk` becomes `example.co.uk`. The list is loaded
// asynchronously when the module is first required; callers await `domainsReady` once.

// eslint-disable-next-line @typescript-eslint/no-require-imports -- haraka-tld ships no type declarations
const tld = require('haraka-tld') as {
  ready: Promise<unknown>
  get_organizational_domain(host: string): string | null
}

export const domainsReady: Promise<unknown> = tld.ready

/**
 * Returns the registered domain of a host name, or null for an invalid name. Names under a TLD
 * that the list does not know (the reserved .example, .test, .invalid) keep their last two labels.
 */
export function registeredDomain(host: string): string | null {
  const name = host.toLowerCase().replace(/\.$/, '')
  if (!/^[a-z0-9.-]+$/.test(name) || !name.includes('.')) return null
  return tld.get_organizational_domain(name) ?? name.split('.').slice(-2).join('.')
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@')
  return at < 0 ? '' : address.slice(at + 1).toLowerCase()
}
