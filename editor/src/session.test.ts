import { describe, expect, it } from 'vitest';
import { setupTokenFromUrl } from './session';

const at = (hash: string) => ({ hash }) as Location;

describe('the setup link', () => {
  it('takes the one-time setup token from the address, decoded, and nothing else', () => {
    expect(setupTokenFromUrl(at('#setup=abc_DEF-1'))).toBe('abc_DEF-1');
    expect(setupTokenFromUrl(at('#token=t&setup=a%2Bb'))).toBe('a+b');
    expect(setupTokenFromUrl(at('#token=abc'))).toBeNull();
    expect(setupTokenFromUrl(at(''))).toBeNull();
  });
});
