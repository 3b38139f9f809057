import { isIP } from 'node:net';

/*
 * Addresses a destination may not reach unless added for it: link-local and cloud metadata
 * (--allow-link-local), and every other private or reserved range of IANA's special-purpose
 * registries (--allow-private). Addresses are compared as bytes, so every way of writing one (an
 * IPv4-mapped or -compatible IPv6 address, `::`, zero-compressed forms) lands on the same range.
 * Decimal and shortened IPv4 forms (`2130706433`, `127.1`) are normalised by the URL parser first.
 */

export type AddressClass = { kind: 'link-local' | 'private'; range: string };

interface Range {
  bytes: number[];
  bits: number;
  text: string;
  kind: AddressClass['kind'];
}

function range(text: string, kind: AddressClass['kind'] = 'private'): Range {
  const [address, bits] = text.split('/') as [string, string | undefined];
  const bytes = addressBytes(address)!;
  return { bytes, bits: bits === undefined ? bytes.length * 8 : Number(bits), text, kind };
}

/** The address's bytes (4 or 16), or undefined if it is not an IP address. */
export function addressBytes(address: string): number[] | undefined {
  const a = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(a);
  if (family === 4) return a.split('.').map(Number);
  if (family !== 6) return undefined;
  let text = a;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...dotted[1]!.split('.').map(Number));
    text = `${text.slice(0, -dotted[1]!.length)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const hex = (s: string) => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const left = hex(head);
  const right = rest === undefined ? [] : hex(rest);
  const words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

// Link-local and metadata first: fd00:ec2::254 is inside fc00::/7 too, and it is the metadata service.
const RANGES: Range[] = [
  range('169.254.0.0/16', 'link-local'),
  range('fe80::/10', 'link-local'),
  range('fd00:ec2::254', 'link-local'),
  range('0.0.0.0/8'),
  range('10.0.0.0/8'),
  range('100.64.0.0/10'),
  range('127.0.0.0/8'),
  range('172.16.0.0/12'),
  range('192.0.0.0/24'),
  range('192.0.2.0/24'),
  range('192.88.99.0/24'),
  range('192.168.0.0/16'),
  range('198.18.0.0/15'),
  range('198.51.100.0/24'),
  range('203.0.113.0/24'),
  range('224.0.0.0/4'),
  range('240.0.0.0/4'),
  // IPv6: `::`, `::1` and IPv4-compatible addresses; NAT64 and 6to4 (they carry an IPv4 address
  // anyone could choose); discard-only, documentation, IETF protocol assignments (Teredo among
  // them), unique local, the old site-local, multicast.
  range('::/96'),
  range('64:ff9b::/96'),
  range('64:ff9b:1::/48'),
  range('100::/64'),
  range('2001::/23'),
  range('2001:db8::/32'),
  range('2002::/16'),
  range('fc00::/7'),
  range('fec0::/10'),
  range('ff00::/8'),
];

function inRange(bytes: number[], r: Range): boolean {
  if (bytes.length !== r.bytes.length) return false;
  for (let bit = 0; bit < r.bits; bit += 8) {
    const take = Math.min(8, r.bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((bytes[bit / 8]! & mask) !== (r.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

/**
 * Which reserved range the address is in, or undefined for a public address (or no address).
 * An IPv4 address written as IPv6 (`::ffff:10.0.0.1`, `::ffff:a00:1`) is judged as the IPv4 one.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  let bytes = addressBytes(address);
  if (!bytes) return undefined;
  const mapped =
    bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) bytes = bytes.slice(12);
  const r = RANGES.find((x) => inRange(bytes!, x));
  return r && { kind: r.kind, range: r.text };
}
