/**
 * Macro catalogue of the notification template language.
 *
 * Every `%NAME%` a template may use is declared here, with its scope and a one-line description.
 * The parser rejects any other name unless the template defines it with `<DEF>`. The notification
 * code fills the values through `TemplateData` (template-data.ts). docs/templates.md lists the
 * same macros, so keep the two in step.
 */

/** Constants that every template can use; they need no data. */
export const CONSTANT_MACROS = {
  CRLF: 'a line break',
  TAB: 'a tab character',
} as const;

/** Macros about the message as a whole; `multi` marks those that can hold several values. */
export const MESSAGE_MACROS = {
  HOSTNAME: { multi: false, doc: 'host name of the gateway (Hostname in [mailgw.network])' },
  POSTMASTER: { multi: false, doc: 'postmaster address of the gateway (Postmaster in [mailgw.network])' },
  ADMIN_ADDR: { multi: false, doc: 'administrator address for notifications (AdminNotifyAddress)' },
  NOTIFY_FROM: { multi: false, doc: 'sender address of notifications (NotifyFromAddress)' },
  NOTIFY_TO: { multi: false, doc: 'address this notification is sent to' },
  NOTIFY_MESSAGE_ID: { multi: false, doc: 'Message-ID of this notification, with angle brackets' },
  NOTIFY_REASON: {
    multi: true,
    doc: 'statuses that triggered this notification, such as av/infected or as/spam',
  },
  DATE: { multi: false, doc: 'date and time the notification is generated, in RFC 5322 format' },
  VERSION: { multi: false, doc: 'product name and version, such as "haraka-mailgw 0.1.0"' },
  QUEUE_ID: { multi: false, doc: 'transaction id of the message in the gateway log' },
  CONFIG_FILE: { multi: false, doc: 'mailgw.conf of the gateway, for commands such as `mailgw maila -c`' },
  CLIENT_ADDR: { multi: false, doc: 'IP address of the SMTP client that sent the message' },
  CLIENT_HOST: { multi: false, doc: 'verified reverse DNS name of the client, empty when it has none' },
  CLIENT_HELO: { multi: false, doc: 'name the client gave in HELO or EHLO' },
  SENDER_ADDR: { multi: false, doc: 'envelope sender (MAIL FROM), empty for the null sender' },
  RECIPIENTS: { multi: true, doc: 'envelope recipients of the message copy, one value each' },
  RECPT_ADDR: {
    multi: false,
    doc: 'in a recipient notification the recipient being notified; empty in other templates',
  },
  SUBJECT: { multi: false, doc: 'Subject of the message, decoded' },
  MESSAGE_ID: { multi: false, doc: 'Message-ID of the message' },
  MESSAGE_SIZE: { multi: false, doc: 'size of the message in bytes' },
  GROUP: { multi: false, doc: 'name of the group whose rules processed this copy ("policy" for the defaults)' },
  SPAM_STATUS: {
    multi: false,
    doc: 'anti-spam status: spam, probable, formal, blacklisted or "not detected"',
  },
  ACTION_LIST: {
    multi: true,
    doc: 'message actions taken, such as blocked, quarantined or "subject marked"',
  },
  QUARANTINE_ID: { multi: false, doc: 'id of the copy in quarantine, empty when it was not quarantined' },
  HEADERS: { multi: true, doc: 'header fields of the message, one value per field as "Name: value", unfolded' },
} as const;

/** Counts the renderer computes from the object and failed-recipient lists; handy as FOR conditions. */
export const COUNT_MACROS = {
  OBJECT_COUNT: 'number of objects in the message (0 when there are none)',
  FAILED_RCPT_COUNT: 'number of recipients whose delivery failed (0 when there are none)',
} as const;

/**
 * Macros of one MIME object (attachment or body part). Each has one value per object, and a FOR
 * over any of them binds all of them to the same object.
 */
export const OBJECT_MACROS = {
  OBJECT: 'name of the object (file name, or a generated name such as "part 2" when it has none)',
  OBJECT_NAME: 'same as OBJECT',
  OBJECT_TYPE: 'MIME content type of the object, such as application/zip',
  OBJECT_SIZE: 'size of the object in bytes',
  OBJECT_STATUS: 'anti-virus status of the object: clean, infected, disinfected, suspicious, protected, error, not_checked or filtered',
  OBJECT_VIRUS: 'name of the detected threat or filter rule, empty when there is none',
  OBJECT_ACTION: 'action applied to the object: cure, pass, remove or placeholder',
} as const;

/**
 * Macros of one recipient whose delivery failed, for the DSN template. Each has one value per
 * failed recipient, and a FOR over any of them binds all of them to the same recipient.
 */
export const FAILED_RCPT_MACROS = {
  FAILED_RCPT: 'address of a recipient whose delivery failed',
  FAILED_RCPT_STATUS: 'enhanced status code of the failure, such as 5.1.1',
  FAILED_RCPT_REASON: 'reason for the failure: the reply of the remote server or the local error',
  FAILED_RCPT_HOST: 'remote host that rejected the recipient, empty when the failure was local',
} as const;

export type ConstantMacro = keyof typeof CONSTANT_MACROS;
export type MessageMacro = keyof typeof MESSAGE_MACROS;
export type CountMacro = keyof typeof COUNT_MACROS;
export type ObjectMacro = keyof typeof OBJECT_MACROS;
export type FailedRcptMacro = keyof typeof FAILED_RCPT_MACROS;
export type CatalogueMacro = ConstantMacro | MessageMacro | CountMacro | ObjectMacro | FailedRcptMacro;

/** Records of macros that share one loop index: a FOR over one member binds all of them. */
export type MacroRecordKind = 'object' | 'failed-rcpt';

/** Returns the record kind of a macro, or undefined for message macros, constants and unknown names. */
export function macroRecordKind(name: string): MacroRecordKind | undefined {
  if (Object.hasOwn(OBJECT_MACROS, name)) return 'object';
  if (Object.hasOwn(FAILED_RCPT_MACROS, name)) return 'failed-rcpt';
  return undefined;
}

/** Reports whether a name is declared in the catalogue (constants included). */
export function isCatalogueMacro(name: string): name is CatalogueMacro {
  return (
    Object.hasOwn(CONSTANT_MACROS, name) ||
    Object.hasOwn(MESSAGE_MACROS, name) ||
    Object.hasOwn(COUNT_MACROS, name) ||
    Object.hasOwn(OBJECT_MACROS, name) ||
    Object.hasOwn(FAILED_RCPT_MACROS, name)
  );
}
