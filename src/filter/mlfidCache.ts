/**
 * fail2ban's `Utils.Cache(maxCount=100, maxTime=300)` as the filter uses it for multi-line failure
 * ids: entries expire after `maxTime` seconds of the real clock; when full, the oldest entries are
 * dropped up to and including the first one still alive (fail2ban's eviction, kept as is).
 */
export class ExpiringCache<V> {
  private readonly map = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly clock: () => number,
    private readonly maxCount = 100,
    private readonly maxTime = 300,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expires > this.clock()) return e.value;
    this.map.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    const t = this.clock();
    if (this.map.size >= this.maxCount) {
      for (const [k, e] of this.map) {
        this.map.delete(k);
        if (e.expires > t && this.map.size < this.maxCount) break;
      }
    }
    const prev = this.map.get(key);
    if (prev) {
      prev.value = value;
      prev.expires = t + this.maxTime;
    } else this.map.set(key, { value, expires: t + this.maxTime });
  }

  unset(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
