/**
 * One action command at a time, server-wide (fail2ban's `_cmd_lock`): firewall tools such as
 * iptables do not like being run concurrently, and fail2ban's actions were written for that
 * guarantee. Waiters run in the order they asked (FIFO). One instance per server, injected.
 */
export class CommandLock {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  /** Runs `fn` once every earlier holder has finished; the lock is released however `fn` ends. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.tail;
    let release: () => void = () => {};
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.waiting++;
    return before.then(async () => {
      try {
        return await fn();
      } finally {
        this.waiting--;
        release();
      }
    });
  }

  /** Holders and waiters right now (0 = free). */
  get pending(): number {
    return this.waiting;
  }
}
