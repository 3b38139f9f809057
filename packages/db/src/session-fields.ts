import { sql, type RawBuilder } from 'kysely';

/*
 * SQL shared by the session writers and the backfill of older rows, so both copy fields the same way.
 */

/** The session columns copied out of a call's `analysis` jsonb, as SQL over the expression `a`. */
export function callAnalysisColumns(a: RawBuilder<unknown>) {
  return {
    call_successful: jsonbBoolean(a, 'call_successful'),
    user_sentiment: sql<string | null>`${a}->>'user_sentiment'`,
    in_voicemail: jsonbBoolean(a, 'in_voicemail'),
    call_summary: sql<string | null>`${a}->>'call_summary'`,
    custom_analysis_data: sql<unknown>`${a}->'custom_analysis_data'`,
  };
}

/** The same for a chat's `analysis`. */
export function chatAnalysisColumns(a: RawBuilder<unknown>) {
  return {
    chat_successful: jsonbBoolean(a, 'chat_successful'),
    user_sentiment: sql<string | null>`${a}->>'user_sentiment'`,
    chat_summary: sql<string | null>`${a}->>'chat_summary'`,
    custom_analysis_data: sql<unknown>`${a}->'custom_analysis_data'`,
  };
}

/** A boolean only when the JSON holds one: "yes" or 1 is no answer, and must not fail the write. */
function jsonbBoolean(a: RawBuilder<unknown>, key: string) {
  return sql<boolean | null>`case when jsonb_typeof(${a}->${key}) = 'boolean' then (${a}->>${key})::boolean end`;
}

/** `col1 = expr1, col2 = expr2` for an UPDATE's SET list. */
export function setList(columns: Record<string, RawBuilder<unknown>>) {
  return sql.join(Object.entries(columns).map(([c, e]) => sql`${sql.ref(c)} = ${e}`));
}

/** `jsonb_to_recordset(rows) as v(key text, col type, ...)`: many rows as one parameter. */
export function recordset(rows: readonly object[], key: string, columns: Record<string, string>) {
  const definition = [`${key} text`, ...Object.entries(columns).map(([c, t]) => `${c} ${t}`)].join(', ');
  return sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(${sql.raw(definition)})`;
}
