import { checkDestinationUrl } from './destination-url';
import { addressBytes, classifyAddress } from './reserved-addresses';

describe('classifyAddress', () => {
  it.each([
    ['0.0.0.0', '0.0.0.0/8'],
    ['10.0.0.1', '10.0.0.0/8'],
    ['10.255.255.255', '10.0.0.0/8'],
    ['100.64.0.1', '100.64.0.0/10'],
    ['100.127.255.254', '100.64.0.0/10'],
    ['127.0.0.1', '127.0.0.0/8'],
    ['172.16.0.1', '172.16.0.0/12'],
    ['172.31.255.255', '172.16.0.0/12'],
    ['192.0.0.8', '192.0.0.0/24'],
    ['192.0.2.10', '192.0.2.0/24'],
    ['192.88.99.1', '192.88.99.0/24'],
    ['192.168.178.1', '192.168.0.0/16'],
    ['198.19.0.1', '198.18.0.0/15'],
    ['198.51.100.7', '198.51.100.0/24'],
    ['203.0.113.9', '203.0.113.0/24'],
    ['224.0.0.251', '224.0.0.0/4'],
    ['255.255.255.255', '240.0.0.0/4'],
    ['::', '::/96'],
    ['::1', '::/96'],
    ['0:0:0:0:0:0:0:1', '::/96'],
    ['::127.0.0.1', '::/96'],
    ['64:ff9b::a00:1', '64:ff9b::/96'],
    ['64:ff9b:1::1', '64:ff9b:1::/48'],
    ['100::1', '100::/64'],
    ['2001:0:4136:e378::1', '2001::/23'],
    ['2001:db8::1', '2001:db8::/32'],
    ['2002:c0a8:1::1', '2002::/16'],
    ['fc00::1', 'fc00::/7'],
    ['fd12:3456:789a::1', 'fc00::/7'],
    ['fec0::1', 'fec0::/10'],
    ['ff02::1', 'ff00::/8'],
    // IPv4-mapped, dotted and in hex: judged as the IPv4 address.
    ['::ffff:10.1.2.3', '10.0.0.0/8'],
    ['::ffff:a01:203', '10.0.0.0/8'],
    ['::FFFF:192.168.0.1', '192.168.0.0/16'],
    ['0:0:0:0:0:ffff:7f00:1', '127.0.0.0/8'],
  ])('%s is private or reserved (%s)', (address, range) => {
    expect(classifyAddress(address)).toEqual({ kind: 'private', range });
  });

  it.each([
    ['169.254.169.254', '169.254.0.0/16'],
    ['::ffff:169.254.169.254', '169.254.0.0/16'],
    ['fe80::1', 'fe80::/10'],
    ['fd00:ec2::254', 'fd00:ec2::254'],
  ])('%s is link-local or metadata (%s)', (address, range) => {
    expect(classifyAddress(address)).toEqual({ kind: 'link-local', range });
  });

  it.each([
    '8.8.8.8',
    '11.0.0.1',
    '100.128.0.1',
    '172.32.0.1',
    '192.169.0.1',
    '198.20.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '2a00:1450:4001::200e',
  ])('%s is public', (address) => {
    expect(classifyAddress(address)).toBeUndefined();
  });

  it('reads every IPv6 spelling to the same bytes', () => {
    const one = addressBytes('::ffff:127.0.0.1');
    expect(addressBytes('0:0:0:0:0:ffff:7f00:0001')).toEqual(one);
    expect(addressBytes('[::ffff:7f00:1]')).toEqual(one);
    expect(addressBytes('not an address')).toBeUndefined();
  });
});

describe('checkDestinationUrl and written forms of an address', () => {
  it.each([
    'https://2130706433/hook', // decimal 127.0.0.1
    'https://127.1/hook', // shortened
    'https://0x7f.1/hook', // hex
    'https://0177.0.0.1/hook', // octal
    'https://167772161/hook', // decimal 10.0.0.1
    'https://10.1/hook',
    'https://[::]/hook',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[::ffff:a00:1]/hook',
    'https://[fc00::1]/hook',
    'https://0/hook',
    'https://localhost/hook',
  ])('refuses %s without --allow-private, accepts it with', (url) => {
    expect(() => checkDestinationUrl(url)).toThrow(/private or reserved address .*--allow-private/);
    expect(() => checkDestinationUrl(url, { allowPrivate: true })).not.toThrow();
  });

  it('writes a decimal or shortened host out as a.b.c.d', () => {
    expect(checkDestinationUrl('https://2130706433:8443/hook', { allowPrivate: true })).toBe(
      'https://127.0.0.1:8443/hook',
    );
  });

  it('keeps link-local behind --allow-link-local, even with --allow-private', () => {
    expect(() => checkDestinationUrl('https://169.254.169.254/', { allowPrivate: true })).toThrow(/--allow-link-local/);
    expect(() => checkDestinationUrl('https://[fd00:ec2::254]/', { allowPrivate: true })).toThrow(/--allow-link-local/);
  });
});
