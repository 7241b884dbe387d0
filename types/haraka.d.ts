// Ambient types for the parts of Haraka 3.3.4 that haraka-mailgw uses. Haraka ships no type
// definitions, so these were written from its sources (connection.js, transaction.js,
// outbound/*.js, plugins.js) and cover only what our plugins touch.

declare module 'haraka-constants' {
  export const cont: number
  export const stop: number
  export const deny: number
  export const denysoft: number
  export const denydisconnect: number
  export const denysoftdisconnect: number
  export const disconnect: number
  export const ok: number
  export const next_hook: number
  export const delay: number
  export function translate(code: number): string
}

declare module 'haraka-dsn' {
  export interface DSN {
    code: number
    msg: string
    cls: number
    sub: number
    det: number
    reply: string
  }
  export function create(code: number, msg?: string, subject?: number, detail?: number): DSN
}

declare namespace Haraka {
  type Next = (code?: number, msg?: unknown) => void

  interface Address {
    user: string
    host: string
    original: string
    readonly address: string
    format(): string
    isNull(): boolean
  }

  interface ResultStore {
    add(plugin: string | { name: string }, obj: Record<string, unknown>): string
    push(plugin: string | { name: string }, obj: Record<string, unknown>): string
    incr(plugin: string | { name: string }, obj: Record<string, number>): void
    get(plugin: string | { name: string }): Record<string, unknown> | undefined
  }

  interface Header {
    get(key: string): string
    get_all(key: string): string[]
    get_decoded(key: string): string
    lines(): string[]
    header_list: string[]
  }

  interface MessageStream {
    /** Bytes stored so far, dot-stuffed and with the line ends as received. */
    bytes_read: number
    get_data(cb: (buf: Buffer) => void): void
    get_data(options: Record<string, unknown>, cb: (buf: Buffer) => void): void
    pipe<T extends NodeJS.WritableStream>(dest: T, options?: Record<string, unknown>): T
    unpipe(): void
    add_line_end(cb?: () => void): void
    /** Frees the buffers and removes the spool file (messages over spool_after, 25 MiB). */
    destroy(): void
  }

  interface Transaction {
    uuid: string
    mail_from: Address
    rcpt_to: Address[]
    header: Header
    message_stream: MessageStream
    notes: Record<string, unknown> & { get?(path: string): unknown; set?(path: string, v: unknown): void }
    results: ResultStore
    data_bytes: number
    parse_body: boolean
    add_data(line: Buffer | string): void
    end_data(cb?: () => void): void
    add_header(key: string, value: string): void
    add_leading_header(key: string, value: string): void
    remove_header(key: string): void
  }

  interface Connection {
    uuid: string
    transaction: Transaction | null
    results: ResultStore
    notes: Record<string, unknown>
    relaying: boolean
    remote: { ip: string; port: number; host: string | null; is_private: boolean; is_local: boolean }
    local: { ip: string; port: number; host: string }
    hello: { host: string | null; verb: string | null }
    tran_count: number
    rcpt_count: { accept: number; tempfail: number; reject: number }
    msg_count: { accept: number; tempfail: number; reject: number }
    logdebug(...args: unknown[]): void
    loginfo(...args: unknown[]): void
    lognotice(...args: unknown[]): void
    logwarn(...args: unknown[]): void
    logerror(...args: unknown[]): void
    logcrit(...args: unknown[]): void
  }

  interface TodoItem {
    queue_time: number
    domain: string
    rcpt_to: Address[]
    mail_from: Address
    notes: Record<string, unknown>
    uuid: string
  }

  interface HMailItem {
    todo: TodoItem
    num_failures: number
    filename: string
    path: string
    loginfo(...args: unknown[]): void
    logwarn(...args: unknown[]): void
    logerror(...args: unknown[]): void
  }

  interface Plugin {
    name: string
    config: {
      get(name: string, type?: string | Record<string, unknown>, cb?: () => void): unknown
      getDir?(name: string, opts: unknown, cb: (err: unknown, files: unknown) => void): void
    }
    register_hook(hook: string, method: string, priority?: number): void
    haraka_require(name: string): unknown
    logdebug(...args: unknown[]): void
    loginfo(...args: unknown[]): void
    lognotice(...args: unknown[]): void
    logwarn(...args: unknown[]): void
    logerror(...args: unknown[]): void
    logcrit(...args: unknown[]): void
  }
}
