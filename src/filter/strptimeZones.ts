/**
 * Time zones of fail2ban's strptime: the fixed-offset abbreviation table (`TZ_STR`, data copied
 * from fail2ban/server/strptime.py), `zone2offset` and `validateTimeZone`. Offsets are in minutes.
 */
import { pyReprString } from '../shared/pyvalue.js';
import { PythonError, pyInt } from './strptimeCalendar.js';
import { TimeZoneError } from './dateErrors.js';

/** fail2ban's TZ_STR: an offset in hours, then the abbreviations with that fixed offset. */
const TZ_STR = `
-12 Y
-11 X NUT SST
-10 W CKT HAST HST TAHT TKT
-9 V AKST GAMT GIT HADT HNY
-8 U AKDT CIST HAY HNP PST PT
-7 T HAP HNR MST PDT
-6 S CST EAST GALT HAR HNC MDT
-5 R CDT COT EASST ECT EST ET HAC HNE PET
-4 Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT
-3 P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT
-2 O BRST FNT PMDT UYST WGST
-1 N AZOT CVT EGT
0 Z EGST GMT UTC WET WT
1 A CET DFT WAT WEDT WEST
2 B CAT CEDT CEST EET SAST WAST
3 C EAT EEDT EEST IDT MSK
4 D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT
5 E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT
6 F ALMT BIOT BTT IOT KGT NOVT OMST YEKST
7 G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB
8 H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST
9 I AWDT IRKST JST KST PWT TLT WDT WIT YAKT
10 K AEST ChST PGT VLAT YAKST YAPT
11 L AEDT LHDT MAGT NCT PONT SBT VLAST VUT
12 M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT
13 FJST NZDT
11.5 NFT
10.5 ACDT LHST
9.5 ACST
6.5 CCT MMT
5.75 NPT
5.5 SLT
4.5 AFT IRDT
3.5 IRST
-2.5 HAT NDT
-3.5 HNT NST NT
-4.5 HLV VET
-9.5 MART MIT
`;

/** Abbreviation -> offset in minutes (`TZ_ABBR_OFFS`; the empty name is 0). */
export function tzAbbreviationOffsets(): ReadonlyMap<string, number> {
  const map = new Map<string, number>([['', 0]]);
  for (const line of TZ_STR.split('\n')) {
    const [hours, ...names] = line.trim().split(/\s+/);
    if (hours === undefined || hours === '') continue;
    for (const n of names) map.set(n, Math.trunc(Number(hours) * 60));
  }
  return map;
}

const TZ_ABBR_OFFS = tzAbbreviationOffsets();
/** `FIXED_OFFSET_TZ_RE` (matched at the start; Python's `$` also accepts a final newline). */
const FIXED_OFFSET_TZ_RE = /^([A-Z](?:[A-Z]{2,4})?)?([+-][01]\p{Nd}(?::?\p{Nd}{2})?)?(?=\n?$)/u;

/** Looks an abbreviation up; unknown ones raise KeyError like the Python dict. */
function abbrOffset(abbr: string | undefined): number {
  const v = TZ_ABBR_OFFS.get(abbr ?? '');
  if (v === undefined) throw new PythonError('KeyError', pyReprString(abbr ?? ''));
  return v;
}

/** `zone2offset(tz, dt)` for a zone string or a fixed offset in minutes; throws {@link PythonError}. */
export function zoneToOffset(tz: string | number): number {
  if (typeof tz === 'number') return tz;
  const m = FIXED_OFFSET_TZ_RE.exec(tz);
  if (!m) throw new PythonError('ValueError', `Unknown or unsupported time zone: ${pyReprString(tz)}`);
  const abbr = m[1];
  const tzo = m[2];
  if (tzo === undefined || tzo === '') return abbrOffset(abbr);
  const chars = [...tzo];
  if (chars.length <= 3) return abbrOffset(abbr) + pyInt(tzo) * 60;
  const sign = chars[0] === '-' ? -1 : 1;
  const mm = chars[3] !== ':' ? chars.slice(3, 5) : chars.slice(4, 6);
  return abbrOffset(abbr) + sign * (pyInt(chars.slice(1, 3).join('')) * 60 + pyInt(mm.join('')));
}

/** `validateTimeZone(tz)` (the `logtimezone` check): the offset in minutes, or a {@link TimeZoneError}. */
export function validateTimeZone(tz: string): number {
  try {
    return zoneToOffset(tz);
  } catch (e) {
    if (e instanceof PythonError) throw new TimeZoneError(e.pythonClass, e.message);
    throw e;
  }
}
