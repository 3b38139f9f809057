import { BlockList, isIP } from 'node:net';
import { maskUrlCredentials } from './mask-url';

/*
 * Where callsync may send. Only destinations an operator added are ever sent to, and even then:
 * https anywhere, plain http only to this machine (development), and never to link-local or cloud
 * metadata addresses (169.254.0.0/16, fe80::/10, AWS's fd00:ec2::254) unless the destination was added
 * with that explicitly allowed. The address is checked again when it is resolved for each send, so a
 * DNS name cannot be pointed at the metadata service later.
 */

const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');
LINK_LOCAL.addAddress('fd00:ec2::254', 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** An IPv4 address written as IPv6 (::ffff:169.254.169.254) is checked as the IPv4 one. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

export function isLinkLocal(address: string): boolean {
  const a = unmapped(address);
  return LINK_LOCAL.check(a.address, a.family);
}

export function isLoopback(address: string): boolean {
  const a = unmapped(address);
  return LOOPBACK.check(a.address, a.family);
}

/** The URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

export class DestinationUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationUrlError';
  }
}

/**
 * Check a destination URL when it is added. Throws DestinationUrlError naming the problem.
 * Returns the URL normalised.
 */
export function checkDestinationUrl(text: string, options: { allowLinkLocal?: boolean } = {}): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DestinationUrlError(`"${text}" is not a URL`);
  }
  const host = hostOf(url);
  const loopbackHost = host === 'localhost' || (isIP(host) !== 0 && isLoopback(host));
  if (url.protocol === 'http:') {
    if (!loopbackHost)
      throw new DestinationUrlError(
        `${url.origin}: plain http is only allowed to this machine (127.0.0.1, ::1, localhost); use https`,
      );
  } else if (url.protocol !== 'https:') {
    throw new DestinationUrlError(`${url.protocol} URLs cannot be destinations; use https`);
  }
  if (isIP(host) !== 0 && isLinkLocal(host) && !options.allowLinkLocal)
    throw new DestinationUrlError(
      `${host} is a link-local or cloud metadata address; add the destination with --allow-link-local if you mean it`,
    );
  if (url.hash) throw new DestinationUrlError(`${maskUrlCredentials(text)}: a destination URL has no #fragment`);
  return url.toString();
}

/**
 * Check a resolved address at send time: the reason it may not be used, or undefined.
 * `plainHttp`: the URL is http, so only loopback addresses are allowed.
 */
export function refusedAddress(address: string, plainHttp: boolean, allowLinkLocal: boolean): string | undefined {
  if (isLinkLocal(address) && !allowLinkLocal)
    return `${address} is a link-local or cloud metadata address (not allowed for this destination)`;
  if (plainHttp && !isLoopback(address)) return `plain http may only reach this machine, not ${address}`;
  return undefined;
}
