/**
 * fail2ban's framing on the control socket: every message is a pickle followed by the 17 bytes
 * `<F2B_END_COMMAND>`; `<F2B_CLOSE_COMMAND>` as a message ends the connection. There is no
 * escaping: like fail2ban's asynchat server, a message ends at the first END marker.
 */

export const END = Buffer.from('<F2B_END_COMMAND>', 'latin1');
export const CLOSE = Buffer.from('<F2B_CLOSE_COMMAND>', 'latin1');

/** Default largest message (16 MiB; a `reload` stream of a large configuration is a few hundred KiB). */
export const DEFAULT_MAX_MESSAGE = 16 << 20;

/** What `FrameReader.push` yields: a complete message (END stripped), or the size limit was passed. */
export type FrameEvent = { readonly type: 'message'; readonly data: Buffer } | { readonly type: 'oversized'; readonly size: number };

/** `message` followed by the END marker. */
export function frame(message: Uint8Array): Buffer {
  return Buffer.concat([message, END]);
}

/**
 * Accumulates chunks and cuts them into messages at END markers. Each byte is scanned about once:
 * a new chunk is searched together with the last 16 bytes before it only. After an `oversized`
 * event the reader is spent and ignores further input.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private tail: Buffer = Buffer.alloc(0);
  private spent = false;

  constructor(private readonly maxMessage = DEFAULT_MAX_MESSAGE) {}

  /** Bytes held for an unfinished message. */
  get pending(): number {
    return this.size;
  }

  /** Whether an oversized message ended the reader. */
  get overflowed(): boolean {
    return this.spent;
  }

  push(chunk: Uint8Array): FrameEvent[] {
    const events: FrameEvent[] = [];
    let rest = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    while (!this.spent && rest.length > 0) {
      // Search the joint of what is held and the new bytes: a marker may straddle chunks.
      const window = this.tail.length > 0 ? Buffer.concat([this.tail, rest]) : rest;
      const at = window.indexOf(END);
      if (at === -1) {
        this.hold(rest);
        if (this.size > this.maxMessage + END.length - 1) {
          events.push({ type: 'oversized', size: this.size });
          this.spent = true;
          this.chunks = [];
        }
        break;
      }
      // `at` counts from the start of `window`, which begins `tail.length` bytes before `rest`.
      const endInRest = at - this.tail.length + END.length;
      const messageLength = this.size - this.tail.length + at;
      const parts = this.chunks;
      const head = rest.subarray(0, Math.max(0, endInRest - END.length));
      const whole = Buffer.concat([...parts, head]).subarray(0, messageLength);
      this.chunks = [];
      this.size = 0;
      this.tail = Buffer.alloc(0);
      rest = rest.subarray(endInRest);
      if (messageLength > this.maxMessage) {
        events.push({ type: 'oversized', size: messageLength });
        this.spent = true;
        break;
      }
      events.push({ type: 'message', data: whole });
    }
    return events;
  }

  private hold(bytes: Buffer): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
    const keep = END.length - 1;
    this.tail = bytes.length >= keep ? bytes.subarray(bytes.length - keep) : Buffer.concat([this.tail, bytes]).subarray(-keep);
  }
}
