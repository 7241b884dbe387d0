/**
 * Values a notification fills into a template: the message macros, the objects of the message and,
 * for DSNs, the recipients whose delivery failed. The renderer turns these into macro values; see
 * macros.ts for what each macro means.
 */
import { MESSAGE_MACROS, type MessageMacro } from './macros';

/** One MIME object (attachment or body part) as the anti-virus stage left it. */
export interface TemplateObject {
  /** File name, or a generated name such as "part 2" when the part has none. */
  readonly name: string;
  /** MIME content type, such as application/zip. */
  readonly type: string;
  /** Size in bytes. */
  readonly size: number;
  /** Anti-virus status without the av/ prefix: clean, infected, disinfected, suspicious, ... */
  readonly status: string;
  /** Detected threat or filter rule; empty or missing when there is none. */
  readonly virus?: string;
  /** Action applied: cure, pass, remove or placeholder. */
  readonly action: string;
}

/** One recipient whose delivery failed, for the DSN template. */
export interface FailedRecipient {
  readonly address: string;
  /** Enhanced status code, such as 5.1.1. */
  readonly status: string;
  /** Reply of the remote server or the local error. */
  readonly reason: string;
  /** Remote host that rejected the recipient; empty or missing when the failure was local. */
  readonly remoteHost?: string;
}

type MessageValue<K extends MessageMacro> = (typeof MESSAGE_MACROS)[K]['multi'] extends true
  ? string | readonly string[]
  : string;

/** Message macro values: a string for one value, an array for a multi-valued macro. */
export type MessageValues = { readonly [K in MessageMacro]?: MessageValue<K> };

/** Everything a template can print. A macro without a value prints as an empty string. */
export interface TemplateData {
  readonly message: MessageValues;
  /** Objects of the message in message order; the placeholder template gets the one object it replaces. */
  readonly objects?: readonly TemplateObject[];
  readonly failedRecipients?: readonly FailedRecipient[];
}
