import { z } from 'zod';

/**
 * What the ingress needs of a webhook body. Other fields are allowed and left out of the result: the
 * stored payload is the body itself, so copying a whole call (transcript and all) here would only
 * cost the ingress time on every request.
 */
export const envelopeSchema = z.object({
  event: z.string().min(1).max(100),
  call: z.object({
    call_id: z.string().min(1).max(200),
  }),
  timestamp: z.number().optional(),
});

export type Envelope = z.infer<typeof envelopeSchema>;

export type EnvelopeResult = { ok: true; envelope: Envelope } | { ok: false; message: string };

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const field = issue.path.map(String).join('.') || 'body';
  let value: unknown = input;
  for (const p of issue.path)
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[p] : undefined;
  if (value === undefined && issue.code === 'invalid_type') return `${field} is required`;
  return `${field}: ${issue.message}`;
}

/** Validate a parsed webhook body. The message names the offending field, e.g. "call.call_id is required". */
export function parseEnvelope(body: unknown): EnvelopeResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, message: 'body must be a JSON object like {"event": ..., "call": {"call_id": ...}}' };
  }
  const r = envelopeSchema.safeParse(body);
  if (r.success) return { ok: true, envelope: r.data };
  return { ok: false, message: r.error.issues.map((i) => describeIssue(i, body)).join('; ') };
}
