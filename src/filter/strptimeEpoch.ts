/**
 * Timestamps of the non-pattern templates (datetemplate.py `DateEpoch.getDate`, `DateTai64n.getDate`).
 * Neither uses the local zone or `logtimezone`.
 */

/** Python `float()` of a matched number (the regexes only let digits and one `.` through; `\d` is Unicode). */
function pyFloatDigits(text: string): number {
  const ascii = text.replace(/\p{Nd}/gu, (ch) => {
    if (/[0-9]/.test(ch)) return ch;
    let cp = ch.codePointAt(0) ?? 0;
    let n = 0;
    while (/\p{Nd}/u.test(String.fromCodePoint(cp - 1)) && n < 200) {
      cp--;
      n++;
    }
    return String(n % 10);
  });
  return Number(ascii);
}

/**
 * The Unix time of an Epoch template's number (its group 1, or 2 for `{EPOCH}` inside a pattern).
 * LEPOCH (`longForm`): 13+ characters are milliseconds, or microseconds when 16+ without a `.`.
 */
export function epochValue(text: string, longForm: boolean): number {
  const len = [...text].length;
  if (longForm && len >= 13) {
    return len >= 16 && !text.includes('.') ? pyFloatDigits(text) / 1000000 : pyFloatDigits(text) / 1000;
  }
  return pyFloatDigits(text);
}

/** The Unix time of a TAI64N match `@4…`: the 15 hex digits after `@4`, with no TAI correction. */
export function tai64nValue(text: string): number {
  return parseInt(text.slice(2, 17), 16);
}
