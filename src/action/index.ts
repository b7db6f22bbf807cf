/** Action commands: fail2ban's CommandAction life cycle, its tags and the server-wide command lock. */
export { substituteDynamic, type ExtraTags, type ShellCommand } from './dynamicTags.js';
export { ActionTagError, ESCAPED_TAGS, StaticTags, escapeTag, propertyText, type PropertyValue } from './staticTags.js';
export {
  ActionInfo,
  ptrName,
  ticketValueText,
  type ActionInfoOptions,
  type ActionInfoPorts,
  type FamilyKey,
  type JailView,
  type MergedBans,
} from './actionInfo.js';
export { CommandLock } from './commandLock.js';
export { ActionError, ActionPropertyError, CommandAction, PythonActionError, type ActionEnv, type BanEpoch } from './commandAction.js';
