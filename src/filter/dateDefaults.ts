/** fail2ban's 17 base date patterns (`DateDetectorCache.DEFAULT_TEMPLATES`, 1.0.2) and `unboundPattern`. */

/** The base patterns, in order; each non-anchored one also gets a `{^LN-BEG}` copy in front. */
export const DEFAULT_DATE_PATTERNS: readonly string[] = [
  String.raw`%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`,
  String.raw`(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  String.raw`(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?`,
  String.raw`%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S`,
  String.raw`%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?`,
  String.raw`%m/%d/%ExY:%H:%M:%S`,
  String.raw`%m-%d-%ExY %k:%M:%S(?:\.%f)?`,
  'EPOCH',
  '{^LN-BEG}%H:%M:%S',
  '^<%m/%d/%Exy@%H:%M:%S>',
  '%Exy%Exm%Exd  ?%H:%M:%S',
  '%b %d, %ExY %I:%M:%S %p',
  '^%b-%d-%Exy %k:%M:%S',
  String.raw`%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?`,
  String.raw`(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  String.raw`(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  'TAI64N',
];

/** Base pattern #13 as newer fail2ban (and `date-templates.txt`) has it: `-` separator, optional `:`. */
export const UPSTREAM_ISO_COMPACT = String.raw`%ExY%Exm%Exd(?:-|T|  ?)%ExH:?%ExM:?%ExS(?:[.,]%f)?(?:\s*%z)?`;

/** The base patterns, with #13 in its newer (upstream) form when asked. */
export function basePatterns(upstream: boolean): readonly string[] {
  return upstream ? DEFAULT_DATE_PATTERNS.map((p, i) => (i === 13 ? UPSTREAM_ISO_COMPACT : p)) : DEFAULT_DATE_PATTERNS;
}

/** `DateTemplate.unboundPattern`: drops `{UNB}`, `{^LN-BEG}`, a leading `(?:^|\b|\W)` and a trailing `(?=\b|\W|$)`. */
export function unboundPattern(pattern: string): string {
  return pattern
    .replace(/^\{UNB\}/, '')
    .replace(/^\{\^LN-BEG\}/, '')
    .replace(/^\((?:\?:)?\^\|\\b\|\\W\)/, '')
    .replace(/\(\?=\\b\|\\W\|\$\)$/, '');
}
