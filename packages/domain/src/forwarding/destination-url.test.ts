import { checkDestinationUrl, DestinationUrlError, isLoopbackHost, refusedAddress } from './destination-url';

/* Where callsync may send: checked when a destination is added, and again for every resolved address. */

const refusal = (text: string, options = {}) => {
  try {
    checkDestinationUrl(text, options);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(DestinationUrlError);
    return (err as Error).message;
  }
};

describe('checkDestinationUrl', () => {
  it('takes https to a public address, written out in full', () => {
    expect(checkDestinationUrl('https://crm.example.com/hook')).toBe('https://crm.example.com/hook');
    // A decimal IPv4 host is normalised, then checked like any other.
    expect(checkDestinationUrl('https://134744072/hook')).toBe('https://8.8.8.8/hook');
  });

  it('names the problem, and the flag that allows it when there is one', () => {
    expect(refusal('not a url')).toBe('"not a url" is not a URL');
    expect(refusal('ftp://crm.example.com/x')).toBe('ftp: URLs cannot be destinations; use https');
    expect(refusal('http://crm.example.com/x')).toMatch(/plain http is refused.*--allow-private/);
    expect(refusal('https://10.1.2.3/x')).toMatch(/private or reserved address \(10\.0\.0\.0\/8\).*--allow-private/);
    expect(refusal('https://169.254.169.254/latest')).toMatch(/link-local or cloud metadata.*--allow-link-local/);
    expect(refusal('https://localhost/x')).toMatch(/127\.0\.0\.1 is a private or reserved address/);
    expect(refusal('https://crm.example.com/x#part')).toBe(
      'https://crm.example.com/x#part: a destination URL has no #fragment',
    );
  });

  it('lets each flag allow only its own ranges', () => {
    expect(refusal('http://10.1.2.3/x', { allowPrivate: true })).toBeUndefined();
    expect(refusal('https://169.254.169.254/x', { allowPrivate: true })).toMatch(/--allow-link-local/);
    expect(refusal('https://169.254.169.254/x', { allowLinkLocal: true })).toBeUndefined();
    expect(refusal('https://10.1.2.3/x', { allowLinkLocal: true })).toMatch(/--allow-private/);
  });
});

describe('refusedAddress (each address a send resolves to)', () => {
  it('refuses a private address behind a public name, and plain http without --allow-private', () => {
    expect(refusedAddress('192.168.1.5', false, {})).toMatch(/192\.168\.0\.0\/16/);
    expect(refusedAddress('93.184.216.34', false, {})).toBeUndefined();
    expect(refusedAddress('93.184.216.34', true, {})).toBe(
      'plain http to 93.184.216.34 needs a destination added with --allow-private',
    );
    expect(refusedAddress('93.184.216.34', true, { allowPrivate: true })).toBeUndefined();
  });
});

describe('isLoopbackHost', () => {
  it('knows localhost and loopback addresses in their forms, and nothing else', () => {
    for (const host of ['localhost', 'api.localhost', '127.0.0.1', '127.9.9.9', '::1', '0:0:0:0:0:0:0:1'])
      expect([host, isLoopbackHost(host)]).toEqual([host, true]);
    for (const host of ['example.com', '10.0.0.1', '::2', 'localhost.example.com'])
      expect([host, isLoopbackHost(host)]).toEqual([host, false]);
  });
});
