/**
 * A ticket's `data` as fail2ban stores it in the `data` column: Python truthiness, entries of a
 * dict-like value, match lists joined as `Ticket.getMatches()` does, the JSON column parsed back
 * into `FailTicket` data (defaults, None values dropped).
 */
import { PyDict, PyTuple, pyStr } from '../shared/pyvalue.js';
import type { PyValue } from '../shared/pyvalue.js';
import { LEVEL } from '../system/log.js';
import type { ServerLog } from '../system/log.js';
import { loadData } from './pyjson.js';
import { DB_LOGGER } from './schema.js';

/** Python's truthiness for the values a ticket's data holds. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v) || typeof v === 'string') return v.length > 0;
  if (v instanceof PyTuple) return v.items.length > 0;
  return v !== null && v !== undefined && v !== false && v !== 0;
}

export function entriesOf(data: unknown): Array<[string, unknown]> {
  if (data instanceof PyDict) return data.entries.map(([k, v]) => [k, v]);
  if (data instanceof Map) return Array.from(data as ReadonlyMap<unknown, unknown>, ([k, v]) => [String(k), v]);
  if (typeof data === 'object' && data !== null) return Object.entries(data);
  return [];
}

export function listOf(v: unknown): readonly unknown[] {
  if (Array.isArray(v)) return v as readonly unknown[];
  if (v instanceof PyTuple) return v.items;
  return [];
}

/** `Ticket.getMatches()`: `[prefix, date, rest]` lists joined. */
export function joinMatches(list: readonly unknown[]): string[] {
  return list.map((m) => {
    const parts = listOf(m);
    if (Array.isArray(m) || m instanceof PyTuple) return parts.map((p) => pyStr(p as PyValue)).join('');
    return typeof m === 'string' ? m : pyStr(m as PyValue);
  });
}

export function numberOf(v: PyValue | undefined, absent: number): number {
  if (v === undefined) return absent;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return typeof v === 'object' && v !== null && 'value' in v && typeof v.value === 'number' ? v.value : 0;
}

/** The `data` column as a dict; anything else than a JSON object is logged and read as empty. */
export function parseData(raw: Buffer | string | null, ip: string, log: ServerLog): Map<string, PyValue> {
  const v = loadData(raw);
  if (v instanceof PyDict) return new Map(v.entries);
  if (v !== null) log.log(DB_LOGGER, LEVEL.ERROR, `json loads failed: data of ${ip} is not a JSON object`);
  return new Map();
}

/** `FailTicket(ip, time, data=…)`: matches and failures default, None values dropped. */
export function ticketData(raw: Buffer | string | null, ip: string, log: ServerLog): Map<string, PyValue> {
  const data = new Map<string, PyValue>([
    ['matches', []],
    ['failures', 0],
  ]);
  for (const [k, v] of parseData(raw, ip, log)) if (v !== null) data.set(k, v);
  return data;
}
