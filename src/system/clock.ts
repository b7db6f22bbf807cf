/** Time as a port: the only place that reads the system clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
}

export class SystemClock implements Clock {
  nowMs(): number {
    return Date.now();
  }
}
