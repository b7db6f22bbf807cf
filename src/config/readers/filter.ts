/** A filter file (`filter.d/<name>`) read for one jail, and its part of the command stream. */
import { splitShell } from '../shlex.js';
import type { ConfigFiles } from '../ini/files.js';
import type { OptionValue } from '../ini/store.js';
import type { PyValue } from '../../shared/pyvalue.js';
import { pyStr } from '../ini/store.js';
import type { OptionSpec } from './convert.js';
import { DefinitionReader } from './definition.js';

/** The options a filter (or a jail overriding them) passes to the server, in fail2ban's order. */
export const FILTER_OPTIONS: readonly OptionSpec[] = [
  ['usedns', 'string', null],
  ['prefregex', 'string', null],
  ['ignoreregex', 'string', null],
  ['failregex', 'string', null],
  ['maxlines', 'int', null],
  ['datepattern', 'string', null],
  ['journalmatch', 'string', null],
];

export type StreamCommand = PyValue[];

export class FilterReader extends DefinitionReader {
  constructor(files: ConfigFiles, readonly filterName: string, jailName: string, initOpts: Map<string, OptionValue>) {
    super(files, `filter.d/${filterName}`, jailName, initOpts, FILTER_OPTIONS);
  }

  /** Sets `logtype` from the backend unless the arguments or the filter's Definition set it. */
  applyAutoOptions(backend: string): void {
    if (!this.initOpts.get('logtype') && !this.store.hasOption('Definition', 'logtype', false)) {
      this.initOpts.set('logtype', backend.startsWith('systemd') ? 'journal' : 'file');
    }
  }

  convert(): StreamCommand[] {
    const opts = this.getCombined();
    if (opts.size === 0) return [];
    return fillFilterStream([], opts, this.jailName);
  }
}

/** `FilterReader._fillStream`: appends (or, for usedns/maxlines/prefregex, inserts) the filter commands. */
export function fillFilterStream(stream: StreamCommand[], opts: ReadonlyMap<string, OptionValue>, jail: string): StreamCommand[] {
  let prio0 = 0;
  for (const [opt, value] of opts) {
    if (value === null) continue;
    if (opt === 'failregex' || opt === 'ignoreregex') {
      const multi = pyStr(value).split('\n').filter((r) => r !== '');
      if (multi.length > 1) stream.push(['multi-set', jail, `add${opt}`, multi]);
      else if (multi.length === 1) stream.push(['set', jail, `add${opt}`, multi[0] ?? '']);
    } else if (opt === 'usedns' || opt === 'maxlines' || opt === 'prefregex') {
      stream.splice(opt === 'usedns' ? 0 : prio0, 0, ['set', jail, opt, value]);
      prio0++;
    } else if ('datepattern'.includes(opt)) {
      // fail2ban tests `opt in ('datepattern')`, a substring test on a string; kept for identical output.
      stream.push(['set', jail, opt, value]);
    } else if (opt === 'journalmatch') {
      for (const match of pyStr(value).split('\n')) {
        if (match === '') continue;
        stream.push(['set', jail, 'addjournalmatch', ...splitShell(match)]);
      }
    }
  }
  return stream;
}
