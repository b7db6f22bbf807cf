/** An action file (`action.d/<name>`) read for one jail, and its part of the command stream. */
import type { ConfigFiles } from '../ini/files.js';
import { pyStr, type OptionValue } from '../ini/store.js';
import type { OptionSpec } from './convert.js';
import { DefinitionReader } from './definition.js';
import type { StreamCommand } from './filter.js';

/** The action options fail2ban reads, in its order. */
export const ACTION_OPTIONS: readonly OptionSpec[] = [
  ['actionstart', 'string', null],
  ['actionstart_on_demand', 'bool', null],
  ['actionstop', 'string', null],
  ['actionflush', 'string', null],
  ['actionreload', 'string', null],
  ['actioncheck', 'string', null],
  ['actionrepair', 'string', null],
  ['actionrepair_on_unban', 'bool', null],
  ['actionban', 'string', null],
  ['actionprolong', 'string', null],
  ['actionreban', 'string', null],
  ['actionunban', 'string', null],
  ['norestored', 'bool', null],
];

const ACTION_OPTION_NAMES = new Set(ACTION_OPTIONS.map(([n]) => n));

/** Tags left for the server to fill at ban time, never substituted while reading. */
export const RUNTIME_TAGS = ['matches', 'ipmatches', 'ipjailmatches', 'timeout', 'bantime'] as const;

export class ActionReader extends DefinitionReader {
  /** The action's unique name in the jail (`actname`): the file name, suffixed when `name` differs. */
  readonly actionName: string;

  constructor(files: ConfigFiles, readonly actionFile: string, jailName: string, initOpts: Map<string, OptionValue>) {
    let n = initOpts.get('name');
    if (n === undefined || n === null) {
      n = jailName;
      initOpts.set('name', n);
    }
    let actname = initOpts.get('actname');
    if (actname === undefined || actname === null) {
      const name = pyStr(n);
      actname = actionFile + (name === jailName ? '' : name.startsWith(jailName) ? name.slice(jailName.length) : `-${name}`);
      initOpts.set('actname', actname);
    }
    super(files, `action.d/${actionFile}`, jailName, initOpts, ACTION_OPTIONS);
    this.actionName = pyStr(actname);
  }

  convert(): StreamCommand[] {
    const opts = this.getCombined([...RUNTIME_TAGS]);
    const stream: StreamCommand[] = [['set', this.jailName, 'addaction', this.actionName]];
    const multi: StreamCommand[] = [];
    for (const [opt, value] of opts) {
      if (ACTION_OPTION_NAMES.has(opt) && !opt.startsWith('known/')) multi.push([opt, value]);
    }
    for (const [opt, value] of this.initOpts) {
      if (!ACTION_OPTION_NAMES.has(opt) && !opt.startsWith('known/')) multi.push([opt, value]);
    }
    if (multi.length > 1) stream.push(['multi-set', this.jailName, 'action', this.actionName, multi]);
    else if (multi.length === 1) stream.push(['set', this.jailName, 'action', this.actionName, ...(multi[0] ?? [])]);
    return stream;
  }
}
