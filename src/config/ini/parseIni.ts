/**
 * One file of fail2ban's INI dialect, parsed the way Python's `configparser.ConfigParser` does with
 * `inline_comment_prefixes=";"` and its defaults (strict, `=`/`:` delimiters, lowercased keys,
 * empty lines kept inside values, values joined and rstripped at the end).
 */
import { ConfigError } from '../../shared/errors.js';
import { pyReprString } from '../../shared/pyvalue.js';
import { PY_SPACE, pyIsSpaceCode, pyRstrip, pyStrip, pyTextLines } from './pytext.js';

/** One option as read: its joined value and where its key stands. */
export interface IniEntry {
  readonly value: string;
  readonly file: string;
  readonly line: number;
}

export type IniSection = Map<string, IniEntry>;

/** A parsed file: its `[DEFAULT]` options and its sections in order of appearance. */
export interface IniFile {
  readonly path: string;
  readonly defaults: IniSection;
  readonly sections: Map<string, IniSection>;
}

// Python's `.` excludes only "\n" (JavaScript's also U+2028/U+2029 and "\r"): spelled out.
const SECTION_RE = /^\[([^\n]+)\]/;

interface OpenOption {
  readonly name: string;
  readonly section: Map<string, { lines: string[]; line: number }>;
}

const reprLine = pyReprString;

/** Index where an inline `;` comment starts (at column 0 or after whitespace), or -1. */
function inlineCommentStart(line: string): number {
  for (let i = line.indexOf(';'); i !== -1; i = line.indexOf(';', i + 1)) {
    if (i === 0 || pyIsSpaceCode(line.charCodeAt(i - 1))) return i;
  }
  return -1;
}

function lineValue(line: string): { value: string; hadComment: boolean } {
  const stripped = pyStrip(line);
  const first = stripped.charCodeAt(0);
  if (first === 0x23 /* # */ || first === 0x3b /* ; */) return { value: '', hadComment: true };
  const c = line.indexOf(';') === -1 ? -1 : inlineCommentStart(line);
  return { value: c === -1 ? stripped : pyStrip(line.slice(0, c)), hadComment: c !== -1 };
}

const NON_SPACE = new RegExp(`[^${PY_SPACE}]`);

/** Index of the first character Python does not count as whitespace, or -1. */
function firstNonSpace(line: string): number {
  return line.search(NON_SPACE);
}

/** ConfigParser's option regex `(.*?)\s*(=|:)\s*(.*)$` on a stripped line: [name, value] or undefined. */
function splitOption(value: string): [string, string] | undefined {
  const eq = value.indexOf('=');
  const colon = value.indexOf(':');
  const at = eq === -1 ? colon : colon === -1 ? eq : Math.min(eq, colon);
  if (at === -1) return undefined;
  return [pyRstrip(value.slice(0, at)), pyStrip(value.slice(at + 1))];
}

type RawSection = Map<string, { lines: string[]; line: number }>;

/**
 * Parses `text` (already decoded) read from `path`. Throws ConfigError with the file and line for
 * what Python's configparser rejects: a missing section header, a duplicate section or option, a
 * line that is neither (reported after the whole file, listing every such line, as Python does).
 */
export function parseIni(text: string, path: string): IniFile {
  const defaults: RawSection = new Map();
  const sections = new Map<string, RawSection>();
  const seen = new Set<string>();
  const badLines: Array<{ line: number; text: string }> = [];
  let current: RawSection | undefined;
  let sectionName = '';
  let open: OpenOption | undefined;
  let indentLevel = 0;

  pyTextLines(text).forEach((line, idx) => {
    const lineNo = idx + 1;
    const { value, hadComment } = lineValue(line);
    if (value === '') {
      if (!hadComment && open) open.section.get(open.name)?.lines.push('');
      return;
    }
    const nonSpace = firstNonSpace(line);
    const curIndent = nonSpace === -1 ? 0 : nonSpace;
    if (current && open && curIndent > indentLevel) {
      open.section.get(open.name)?.lines.push(value);
      return;
    }
    indentLevel = curIndent;
    const header = value.charCodeAt(0) === 0x5b /* [ */ ? SECTION_RE.exec(value) : null;
    if (header) {
      sectionName = header[1] ?? '';
      if (sectionName === 'DEFAULT') current = defaults;
      else if (sections.has(sectionName)) {
        throw new ConfigError(
          'E_INI_DUPLICATE_SECTION',
          `Section [${sectionName}] appears twice in ${path} (line ${lineNo}); merge the two into one`,
          { file: path, line: lineNo, section: sectionName },
          { pythonMessage: `While reading from '${path}' [line ${String(lineNo).padStart(2)}]: section '${sectionName}' already exists` },
        );
      } else {
        current = new Map();
        sections.set(sectionName, current);
      }
      open = undefined;
      return;
    }
    if (!current) {
      throw new ConfigError(
        'E_INI_NO_SECTION',
        `${path}:${lineNo}: an option before any [section] header (a UTF-8 byte order mark at the start of the file causes this too); expected a header such as [Definition]`,
        { file: path, line: lineNo },
        { pythonMessage: `File contains no section headers.\nfile: '${path}', line: ${lineNo}\n${reprLine(line)}` },
      );
    }
    const opt = splitOption(value);
    if (!opt) {
      badLines.push({ line: lineNo, text: line });
      return;
    }
    const [rawName, optValue] = opt;
    if (rawName === '') badLines.push({ line: lineNo, text: line });
    const name = rawName.toLowerCase();
    const key = `${sectionName}\u0000${name}`;
    if (seen.has(key)) {
      throw new ConfigError(
        'E_INI_DUPLICATE_OPTION',
        `Option "${name}" is set twice in section [${sectionName}] of ${path} (line ${lineNo}); keep one`,
        { file: path, line: lineNo, section: sectionName, option: name },
        { pythonMessage: `While reading from '${path}' [line ${String(lineNo).padStart(2)}]: option '${name}' in section '${sectionName}' already exists` },
      );
    }
    seen.add(key);
    current.set(name, { lines: [optValue], line: lineNo });
    open = name === '' ? undefined : { name, section: current };
  });

  if (badLines.length > 0) {
    const first = badLines[0];
    throw new ConfigError(
      'E_INI_PARSE',
      `${path}:${first?.line ?? 0}: cannot parse ${reprLine(first?.text ?? '')}; expected "name = value", a [section] header, or a comment`,
      { file: path, line: first?.line ?? 0 },
      {
        pythonMessage:
          `Source contains parsing errors: '${path}'` +
          badLines.map((b) => `\n\t[line ${String(b.line).padStart(2)}]: ${reprLine(b.text)}`).join(''),
      },
    );
  }
  return { path, defaults: join(defaults, path), sections: new Map([...sections].map(([n, s]) => [n, join(s, path)])) };
}

function join(raw: RawSection, file: string): IniSection {
  const out: IniSection = new Map();
  for (const [name, { lines, line }] of raw) out.set(name, { value: pyRstrip(lines.join('\n')), file, line });
  return out;
}
