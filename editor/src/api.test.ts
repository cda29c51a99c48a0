import { describe, expect, it } from 'vitest';
import { ApiError, describeError, errorFromResponse } from './api';

describe('errorFromResponse', () => {
  it('reads the API error body', () => {
    const error = errorFromResponse(
      404,
      'Not Found',
      JSON.stringify({ error: { code: 'not-found', message: 'no flow has id "x"', path: 'id' } }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(404);
    expect(error.code).toBe('not-found');
    expect(error.message).toBe('no flow has id "x"');
    expect(describeError(error)).toBe('no flow has id "x" (at id)');
  });

  it('keeps validation problems sent with an error', () => {
    const problems = [{ severity: 'error', code: 'no-trigger', path: 'nodes', message: 'no trigger' }];
    const error = errorFromResponse(
      422,
      '',
      JSON.stringify({ error: { code: 'invalid-flow', message: 'bad', problems } }),
    );
    expect(error.problems).toEqual(problems);
    expect(describeError(error)).toBe('bad\n• no trigger');
    const repeated = errorFromResponse(
      422,
      '',
      JSON.stringify({ error: { code: 'invalid_flow', message: 'cannot run: no trigger', problems } }),
    );
    expect(describeError(repeated)).toBe('cannot run: no trigger');
  });

  it('describes answers that are not API errors', () => {
    expect(errorFromResponse(502, 'Bad Gateway', '<html>proxy</html>').message).toBe(
      'The server answered 502 Bad Gateway.',
    );
    expect(errorFromResponse(500, '', 'boom').message).toBe('The server answered 500: boom');
  });

  it('describes other errors', () => {
    expect(describeError(new Error('x'))).toBe('x');
    expect(describeError('plain')).toBe('plain');
  });
});
