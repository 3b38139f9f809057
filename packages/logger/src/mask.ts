/** Phone numbers in E.164 form (+ and 8–15 digits). */
const PHONE = /\+\d{8,15}\b/g;

/** "+491604366218" -> "+49160****218": enough to recognise a number, not enough to call it. */
export function maskPhoneNumber(phone: string): string {
  return phone.replace(PHONE, (n) => `${n.slice(0, 6)}****${n.slice(-3)}`);
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
