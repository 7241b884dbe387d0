/**
 * Public entry point of the notification template language: parse a template once with
 * parseTemplate (or loadTemplate / loadTemplateSet for files), render it per notification with
 * renderTemplate. docs/templates.md describes the language, the macros and the file format.
 */
export { parseTemplate } from './template-parse';
export { renderTemplate, renderTemplateParts, type RenderedHeader, type RenderedParts } from './template-render';
export {
  checkTemplateFile,
  loadTemplate,
  loadTemplateSet,
  TEMPLATE_NAMES,
  type TemplateCheck,
  type TemplateName,
} from './template-file';
export { runTlv, type TextOutput } from './template-tlv';
export type { FailedRecipient, MessageValues, TemplateData, TemplateObject } from './template-data';
export {
  MAX_NAME_BYTES,
  MAX_TEMPLATE_BYTES,
  MAX_VALUE_BYTES,
  TemplateError,
  type Template,
  type TemplateNode,
} from './template-syntax';
