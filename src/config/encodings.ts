/** Encoding names a jail's `logencoding` may use (Python codec names portcullis can decode). */
const KNOWN = new Set([
  'auto', 'utf-8', 'utf8', 'u8', 'utf', 'utf_8', 'ascii', 'us-ascii', 'latin-1', 'latin1', 'latin', 'l1',
  'iso-8859-1', 'iso8859-1', 'iso_8859_1', '8859', 'cp819', 'utf-16', 'utf16', 'utf-16le', 'utf-16be',
  'cp1252', 'windows-1252', 'iso-8859-15', 'iso8859-15', 'latin9', 'iso-8859-2', 'latin2', 'cp1251',
  'windows-1251', 'koi8-r', 'koi8-u', 'shift_jis', 'euc-jp', 'gb2312', 'gbk', 'gb18030', 'big5', 'euc-kr',
]);

export function isKnownEncoding(name: string): boolean {
  return KNOWN.has(name.toLowerCase().replace(/_/g, '-')) || KNOWN.has(name.toLowerCase());
}
