import { maskUrlCredentials } from './mask-url';
import { addressBytes, classifyAddress } from './reserved-addresses';

/*
 * Where callsync may send. Only destinations an operator added are ever sent to, and even then:
 * https to public addresses. Link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10,
 * AWS's fd00:ec2::254) need the destination added with --allow-link-local; every other private or
 * reserved range (10/8, 172.16/12, 192.168/16, 100.64/10, loopback, 0/8, `::`, fc00::/7, ...:
 * reserved-addresses.ts), and plain http, need --allow-private. In development a destination on
 * this machine (localhost, 127.0.0.0/8, ::1) is added as if with --allow-private. The address is
 * checked again each time it is resolved for a send, so a DNS name cannot be pointed at a private
 * network or the metadata service later.
 */

export interface AddressPermissions {
  /** Link-local and cloud metadata addresses may be reached (--allow-link-local). */
  allowLinkLocal?: boolean;
  /** Private and reserved addresses, and plain http, may be used (--allow-private). */
  allowPrivate?: boolean;
}

export function isLinkLocal(address: string): boolean {
  return classifyAddress(address)?.kind === 'link-local';
}

/** The URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** A host on this machine: `localhost` or a loopback address in any of its forms. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (classifyAddress(host)?.range === '127.0.0.0/8') return true;
  const bytes = addressBytes(host);
  return bytes?.length === 16 && bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1;
}

export class DestinationUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationUrlError';
  }
}

/**
 * Check a destination URL when it is added. Throws DestinationUrlError naming the problem.
 * Returns the URL normalised (a decimal or shortened IPv4 host written out as a.b.c.d).
 */
export function checkDestinationUrl(text: string, options: AddressPermissions = {}): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DestinationUrlError(`"${text}" is not a URL`);
  }
  if (url.protocol === 'http:') {
    if (!options.allowPrivate)
      throw new DestinationUrlError(
        `${url.origin}: plain http is refused outside development; use https, or add the destination with --allow-private if you mean it`,
      );
  } else if (url.protocol !== 'https:') {
    throw new DestinationUrlError(`${url.protocol} URLs cannot be destinations; use https`);
  }
  const host = hostOf(url);
  const reason =
    host === 'localhost' ? refusedAddress('127.0.0.1', false, options) : refusedAddress(host, false, options);
  if (reason) throw new DestinationUrlError(reason);
  if (url.hash) throw new DestinationUrlError(`${maskUrlCredentials(text)}: a destination URL has no #fragment`);
  return url.toString();
}

/**
 * Check a resolved address at send time: the reason it may not be used, or undefined.
 * `plainHttp`: the URL is http, allowed only to a destination added with --allow-private.
 */
export function refusedAddress(
  address: string,
  plainHttp: boolean,
  { allowLinkLocal = false, allowPrivate = false }: AddressPermissions,
): string | undefined {
  const reserved = classifyAddress(address);
  if (reserved?.kind === 'link-local' && !allowLinkLocal)
    return `${address} is a link-local or cloud metadata address (${reserved.range}); add the destination with --allow-link-local if you mean it`;
  if (reserved?.kind === 'private' && !allowPrivate)
    return `${address} is a private or reserved address (${reserved.range}); add the destination with --allow-private if you mean it`;
  if (plainHttp && !allowPrivate) return `plain http to ${address} needs a destination added with --allow-private`;
  return undefined;
}
