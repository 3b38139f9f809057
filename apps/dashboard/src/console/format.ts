/** A time as the console shows it: "2026-12-06 10:30:00" (UTC); nothing for none. */
export const when = (d: Date | null | undefined): string => (d ? d.toISOString().replace('T', ' ').slice(0, 19) : '');
