/** What Postgres jsonb cannot hold although JSON allows it: U+0000 and unpaired surrogates. */
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function clean(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(UNSTORABLE, '\ufffd');
  if (Array.isArray(value)) return value.map(clean);
  if (value && typeof value === 'object') {
    // Keys too: {"a\u0000b": 1} is valid JSON that jsonb refuses.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(UNSTORABLE, '\ufffd'), clean(v)]));
  }
  return value;
}

/**
 * The parsed body as JSON that jsonb can hold: U+0000 and unpaired surrogates, in keys and values,
 * become U+FFFD, so the event is still stored; raw_body keeps the exact bytes.
 */
export function toStorableJson(value: unknown): string {
  return JSON.stringify(clean(value));
}
