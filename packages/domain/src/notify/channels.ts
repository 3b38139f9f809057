import { createTransport } from 'nodemailer';
import type { AlertChannel } from '@callsync/db/ops';

/*
 * Where callsync's own notifications go: a Slack-compatible incoming webhook and/or mail over SMTP.
 * Both URLs carry secrets (the webhook's path is its token, the SMTP URL may hold a password), so
 * describe() and every error name only what is safe to log.
 */

export interface OutgoingMessage {
  subject: string;
  body: string;
}

export interface AlertSender {
  channel: AlertChannel;
  /** For logs: the destination without its secrets. */
  describe(): string;
  /** Resolves once the receiver accepted the message; throws otherwise. */
  send(message: OutgoingMessage): Promise<void>;
  close(): void;
}

/** scheme://host:port of a URL: no user, password, path or query. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(not a URL)';
  }
}

/** An error's message with every secret part of `url` (user, password, path, query) masked. */
function scrub(message: string, url: string): string {
  let out = message;
  try {
    const u = new URL(url);
    for (const secret of [u.password, decodeURIComponent(u.password), u.pathname + u.search, u.username]) {
      if (secret && secret.length > 1 && secret !== '/') out = out.split(secret).join('***');
    }
  } catch {
    // Not a URL: config validation refuses those, so there is nothing to mask.
  }
  return out;
}

export interface WebhookSenderOptions {
  url: string;
  /** Give up on one post after this. Default 10000 ms. */
  timeoutMs?: number;
}

/**
 * Posts `{"text": ...}`, which Slack, Mattermost, Rocket.Chat, Google Chat and Teams' incoming
 * webhooks all accept. Any 2xx answer counts as delivered.
 */
export function webhookSender(options: WebhookSenderOptions): AlertSender {
  return {
    channel: 'webhook',
    describe: () => redactUrl(options.url),
    async send(message) {
      let res: Response;
      try {
        res = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: `*${message.subject}*\n${message.body}` }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (err) {
        const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
        throw new Error(`alert webhook ${redactUrl(options.url)} unreachable: ${scrub(cause, options.url)}`);
      }
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) throw new Error(`alert webhook ${redactUrl(options.url)} answered ${res.status}`);
    },
    close() {},
  };
}

export interface EmailSenderOptions {
  /** smtp://user:pass@host:587 or smtps://...:465 (nodemailer's connection URL, options as query). */
  smtpUrl: string;
  from: string;
  to: readonly string[];
  /** Give up on one message after this. Default 20000 ms. */
  timeoutMs?: number;
}

/** Mail through nodemailer's SMTP transport (STARTTLS when the server offers it; smtps:// for TLS at once). */
export function emailSender(options: EmailSenderOptions): AlertSender {
  const timeout = options.timeoutMs ?? 20_000;
  const transport = createTransport({
    url: options.smtpUrl,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    channel: 'email',
    describe: () => `${redactUrl(options.smtpUrl)} to ${options.to.length} recipient(s)`,
    async send(message) {
      try {
        await transport.sendMail({
          from: options.from,
          to: [...options.to],
          subject: message.subject,
          text: message.body,
        });
      } catch (err) {
        throw new Error(
          `alert mail via ${redactUrl(options.smtpUrl)} failed: ${scrub((err as Error).message, options.smtpUrl)}`,
        );
      }
    },
    close: () => transport.close(),
  };
}
