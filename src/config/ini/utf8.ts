/**
 * Python's UTF-8 decoding error text ("'utf-8' codec can't decode byte 0xff in position 3:
 * invalid start byte"), as a text-mode file read reports it: positions count from the start of
 * the 8 KiB chunk being decoded, plus any incomplete sequence carried over from the previous one.
 */
const CHUNK = 8192;

interface Utf8Fault {
  readonly start: number;
  readonly end: number;
  readonly reason: 'invalid start byte' | 'invalid continuation byte' | 'unexpected end of data';
}

/** Allowed range of the second byte after a lead byte (RFC 3629; CPython's decoder). */
function secondRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** The first decoding fault of `bytes`, or undefined when it is valid UTF-8. */
export function findUtf8Fault(bytes: Uint8Array): Utf8Fault | undefined {
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const len = sequenceLength(lead);
    if (len === 0) return { start: i, end: i + 1, reason: 'invalid start byte' };
    for (let k = 1; k < len; k++) {
      if (i + k >= bytes.length) return { start: i, end: bytes.length, reason: 'unexpected end of data' };
      const b = bytes[i + k] ?? 0;
      const [lo, hi] = k === 1 ? secondRange(lead) : [0x80, 0xbf];
      if (b < lo || b > hi) return { start: i, end: i + k, reason: 'invalid continuation byte' };
    }
    i += len;
  }
  return undefined;
}

/** Python's message for the first fault, or undefined when `bytes` is valid UTF-8. */
export function utf8ErrorMessage(bytes: Uint8Array): string | undefined {
  const fault = findUtf8Fault(bytes);
  if (!fault) return undefined;
  const chunkStart = Math.floor(fault.start / CHUNK) * CHUNK;
  let carried = 0;
  if (chunkStart > 0) {
    // An incomplete sequence at the end of the previous chunk is decoded with this one.
    let j = chunkStart - 1;
    while (j >= chunkStart - 3 && ((bytes[j] ?? 0) & 0xc0) === 0x80) j--;
    const lead = bytes[j] ?? 0;
    if (j >= chunkStart - 3 && sequenceLength(lead) > chunkStart - j) carried = chunkStart - j;
  }
  const pos = fault.start - chunkStart + carried;
  const count = fault.end - fault.start;
  const what = count === 1 ? `byte 0x${(bytes[fault.start] ?? 0).toString(16).padStart(2, '0')} in position ${pos}` : `bytes in position ${pos}-${pos + count - 1}`;
  return `'utf-8' codec can't decode ${what}: ${fault.reason}`;
}
