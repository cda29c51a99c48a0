import { errorFromResponse } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { ApiClientError, describeError } from './api';

describe('describeError', () => {
  it('reads the API error, naming the field', () => {
    const error = errorFromResponse(
      404,
      'Not Found',
      JSON.stringify({ error: { code: 'not-found', message: 'no flow has id "x"', path: 'id' } }),
    );
    expect(describeError(error)).toBe('no flow has id "x" (at id)');
  });

  it('lists validation problems sent with an error, once', () => {
    const problems = [{ severity: 'error', code: 'no-trigger', path: 'nodes', message: 'no trigger' }];
    const error = errorFromResponse(
      422,
      '',
      JSON.stringify({ error: { code: 'invalid-flow', message: 'bad', problems } }),
    );
    expect(describeError(error)).toBe('bad\n• no trigger');
    const repeated = errorFromResponse(
      422,
      '',
      JSON.stringify({ error: { code: 'invalid_flow', message: 'cannot run: no trigger', problems } }),
    );
    expect(describeError(repeated)).toBe('cannot run: no trigger');
  });

  it('says plainly when the server cannot be reached', () => {
    const error = new ApiClientError(0, 'network', 'Cannot reach the Sluice server (Failed to fetch).');
    expect(describeError(error)).toBe('Cannot reach the Sluice server. Is it running?');
  });

  it('describes other errors', () => {
    expect(describeError(new Error('x'))).toBe('x');
    expect(describeError('plain')).toBe('plain');
  });
});
