/**
 * Postgres jsonb cannot hold U+0000 or unpaired surrogates, which JSON allows. Replace them with
 * U+FFFD so the event is still stored; raw_body keeps the exact bytes.
 */
export function toStorableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'string' ? v.replace(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd') : v,
  );
}

/** pg error codes for text jsonb refused: untranslatable character, invalid escape. */
export function isJsonbEncodingError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '22P05' || code === '22025' || code === '22021' || code === '22P02';
}
