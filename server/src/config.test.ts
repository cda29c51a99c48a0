import { describe, expect, it } from 'vitest';
import { readConfig } from './config.js';

describe('settings from the environment', () => {
  it('takes the lease time from SLUICE_LEASE_TTL_MS, 15 s unless set', () => {
    expect(readConfig({}).leaseTtlMs).toBe(15_000);
    expect(readConfig({ SLUICE_LEASE_TTL_MS: '5000' }).leaseTtlMs).toBe(5_000);
  });

  it.each(['1000', '15s', '-1', '700000'])('refuses SLUICE_LEASE_TTL_MS=%s with a message naming it', (value) => {
    expect(() => readConfig({ SLUICE_LEASE_TTL_MS: value })).toThrow(
      `SLUICE_LEASE_TTL_MS: must be a whole number from 3000 to 600000 (got "${value}")`,
    );
  });
});
