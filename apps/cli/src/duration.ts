/** "90s" | "10m" | "24h" | "7d" | "15" (minutes) -> minutes. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`${flag}: "${text}" is not a duration like 90s, 10m, 24h or 7d`);
  const n = Number(m[1]);
  return m[2] === 's' ? n / 60 : m[2] === 'h' ? n * 60 : m[2] === 'd' ? n * 1440 : n;
}
