/** Phone numbers in E.164 form (+ and 8–15 digits). */
const PHONE = /\+\d{8,15}\b/g;

/** ITU country codes of one and two digits; every other code has three (E.164 assigns them so). */
const SHORT_COUNTRY_CODES = new Set(
  '1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98'.split(
    ' ',
  ),
);

function countryCode(digits: string): string {
  if (SHORT_COUNTRY_CODES.has(digits.slice(0, 1))) return digits.slice(0, 1);
  if (SHORT_COUNTRY_CODES.has(digits.slice(0, 2))) return digits.slice(0, 2);
  return digits.slice(0, 3);
}

/**
 * "+491604366218" -> "+49****18": the country and the last two digits, enough to tell calls apart
 * in a log, not enough to call anyone. The mask has a fixed width, so it does not give the length away.
 */
export function maskPhoneNumber(phone: string): string {
  return phone
    .replace(PHONE, (n) => `+${countryCode(n.slice(1))}****${n.slice(-2)}`)
    .replace(FORMATTED_PHONE, maskFormatted);
}

/**
 * Numbers as people write them: national (`0160 4366218`, `030-3308 1738`, `(030) 33081738`,
 * `030/33081738`), international with `00` (`0049 160 4366218`), and `+` with spaces, dashes or the
 * German `(0)` (`+49 (0)30 33081738`). A candidate starts with `+`, `0` or `(0` and is digits with
 * single separators; it is not part of a longer word, id or date (the characters around it).
 */
const FORMATTED_PHONE = /(?<![\w+\-/.()=])(?:\+|\(?0)\d(?:[ \-/()]{0,2}\d){5,20}(?![\w\-/]|\.\d)/g;

function maskFormatted(candidate: string): string {
  let digits = candidate.replace(/\D/g, '');
  if (candidate.startsWith('+')) {
    // +49 (0)30 ...: the (0) is the national trunk prefix, not part of the number.
    if (/^\+\d{1,3}\s*\(0\)/.test(candidate)) digits = digits.replace(/^(\d{1,3}?)0/, '$1');
    if (digits.length < 8 || digits.length > 15) return candidate;
    return `+${countryCode(digits)}****${digits.slice(-2)}`;
  }
  if (digits.startsWith('00')) {
    const international = digits.slice(2);
    if (international.length < 8 || international.length > 15) return candidate;
    return `+${countryCode(international)}****${digits.slice(-2)}`;
  }
  // National: the trunk 0, an area code that does not start with 0, at least 8 digits in all.
  if (digits.length < 8 || digits.length > 14) return candidate;
  return `0****${digits.slice(-2)}`;
}

const SECRET_KEYS = /^(authorization|x-retell-signature|signature|api_?key|retell_api_key|password|raw_body)$/i;

/** Deep copy of a log field with phone numbers masked and secrets removed. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPhoneNumber(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: maskPhoneNumber(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.test(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}
