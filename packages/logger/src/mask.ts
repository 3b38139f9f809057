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
  return phone.replace(PHONE, (n) => `+${countryCode(n.slice(1))}****${n.slice(-2)}`);
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
