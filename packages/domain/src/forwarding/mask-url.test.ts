import { maskUrlCredentials } from './mask-url';

describe('maskUrlCredentials', () => {
  it('masks the password of the userinfo, and a lone user name (often a token)', () => {
    expect(maskUrlCredentials('https://crm:hunter2@crm.example.com/hook')).toBe('https://crm:***@crm.example.com/hook');
    expect(maskUrlCredentials('https://ghp_0123456789abcdef@hooks.example.com/x')).toBe(
      'https://***@hooks.example.com/x',
    );
  });

  it('masks the values of query parameters whose names look like credentials, and keeps the others', () => {
    const url =
      'https://crm.example.com/hook?account=42&token=t0k3n&api_key=k3y&X-Amz-Signature=5ig&code=c0de&auth=au7h' +
      '&password=pa55&client_secret=s3cr3t&access%5Ftoken=acc355&tab=calls';
    const masked = maskUrlCredentials(url);
    expect(masked).toBe(
      'https://crm.example.com/hook?account=42&token=***&api_key=***&X-Amz-Signature=***&code=***&auth=***' +
        '&password=***&client_secret=***&access%5Ftoken=***&tab=calls',
    );
    for (const secret of ['t0k3n', 'k3y', '5ig', 'c0de', 'au7h', 'pa55', 's3cr3t', 'acc355'])
      expect(masked).not.toContain(secret);
  });

  it('leaves a URL without credentials as it was, and text that is not a URL', () => {
    for (const url of [
      'https://crm.example.com/hooks/retell?account=42&tab=calls',
      'http://127.0.0.1:8080/hook',
      'https://crm.example.com/hook?flag',
    ])
      expect(maskUrlCredentials(url)).toBe(url);
    expect(maskUrlCredentials('not a url')).toBe('not a url');
  });
});
