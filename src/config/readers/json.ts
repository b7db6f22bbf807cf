/** Python's `json.dumps(dict)` for string values: `{"a": "b", "c": "d"}`, non-ASCII escaped. */
function dumpString(s: string): string {
  return JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function pyJsonDumps(map: ReadonlyMap<string, string>): string {
  return '{' + [...map].map(([k, v]) => `${dumpString(k)}: ${dumpString(v)}`).join(', ') + '}';
}
