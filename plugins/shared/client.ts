// Facts about the SMTP client that several plugins read from the connection notes.

/**
 * Returns the client's reverse name as the access plugin confirmed it by a forward lookup
 * (notes.mailgw_client_host), or null. The unconfirmed PTR name is never used, because whoever
 * controls the client's reverse zone can write any name there.
 */
export function confirmedClientHost(connection: Haraka.Connection): string | null {
  const confirmed = connection.notes.mailgw_client_host
  return typeof confirmed === 'string' && confirmed !== '' ? confirmed : null
}
