/** The configuration reader: fail2ban's files read unchanged, as a command stream or typed jails. */
export { Configurator, DEFAULT_BASEDIR, defaultConfigDir, pythonText, readConfigStream, type StreamResult } from './configurator.js';
export { checkConfiguration } from './check.js';
export { CollectingLog, type ConfigLog, type ConfigLogEntry, type ConfigLogLevel } from './log.js';
export type * from './model.js';
export type { StreamCommand } from './readers/filter.js';
export { extractOptions, splitWithOptions, splitWords } from './options.js';
export { substituteTags } from './tags.js';
