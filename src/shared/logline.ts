/**
 * fail2ban's log line format: `2026-03-03 18:00:01,123 fail2ban.actions        [123]: NOTICE  msg`
 * (local time, logger name padded to 24, level padded to 7).
 */
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `YYYY-mm-dd HH:MM:SS,mmm` in local time. */
export function formatLogTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  // the date part changes once a second; a busy server logs many lines within one
  if (sec !== lastSecond) {
    const d = new Date(sec * 1000);
    lastSecondText = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},`;
    lastSecond = sec;
  }
  return lastSecondText + pad(Math.floor(ms - sec * 1000), 3);
}

let lastSecond = Number.NaN;
let lastSecondText = '';

/** One complete log line (without the newline). */
export function formatLogLine(ms: number, logger: string, pid: number, level: string, message: string): string {
  return `${formatLogTime(ms)} ${logger.padEnd(24)}[${pid}]: ${level.padEnd(7)} ${message}`;
}
