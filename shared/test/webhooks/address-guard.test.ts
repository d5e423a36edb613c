import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { guardedLookup, isBlockedAddress } from '../../src/webhooks/address-guard.js';

describe('isBlockedAddress', () => {
  it.each([
    '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '100.64.0.1', '100.127.255.254', '127.0.0.1', '127.8.9.10',
    '169.254.169.254', '169.254.0.1', '172.16.0.1', '172.31.255.255', '192.0.0.8', '192.168.1.1', '198.18.0.1',
    '198.19.255.255', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255',
  ])('blocks IPv4 %s', (ip) => expect(isBlockedAddress(ip)).toBe(true));

  it.each([
    '::', '::1', 'fc00::1', 'fd00::1', 'fdff:ffff::1', 'fe80::1', 'fe80::1%eth0', 'febf::1', 'ff02::1', 'ff00::',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:0:192.168.0.1',
    '64:ff9b::10.0.0.1', '64:ff9b::a9fe:a9fe', '2002:a00:1::', '::127.0.0.1', '64:ff9b:1::8.8.8.8',
  ])('blocks IPv6 %s', (ip) => expect(isBlockedAddress(ip)).toBe(true));

  it.each([
    '8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '192.169.0.1', '198.20.0.1',
    '223.255.255.255', '169.253.255.255', '2606:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8',
    '2002:808:808::1',
  ])('allows public %s', (ip) => expect(isBlockedAddress(ip)).toBe(false));

  it('blocks what is not an IP address at all', () => {
    expect(isBlockedAddress('localhost')).toBe(true);
    expect(isBlockedAddress('')).toBe(true);
  });
});

function lookup(allowPrivate: boolean, hostname: string, all: boolean) {
  return new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[] }>((resolve) => {
    guardedLookup(allowPrivate)(hostname, { all }, (err, address) => resolve({ err, address }));
  });
}

describe('guardedLookup', () => {
  it('fails with EBLOCKEDADDRESS when every address of the host is blocked', async () => {
    for (const all of [true, false]) {
      const { err } = await lookup(false, 'localhost', all);
      expect(err).toMatchObject({ code: 'EBLOCKEDADDRESS', hostname: 'localhost' });
    }
  });

  it('answers like dns.lookup when private networks are allowed', async () => {
    const many = await lookup(true, 'localhost', true);
    expect(many.err).toBeNull();
    expect((many.address as LookupAddress[]).map((a) => a.address)).toContain('127.0.0.1');
    const one = await lookup(true, 'localhost', false);
    expect(one.err).toBeNull();
    expect(typeof one.address).toBe('string');
  });

  it('passes DNS failures through unchanged', async () => {
    const { err } = await lookup(false, 'nonexistent.invalid', true);
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(err?.code);
  });
});
