import { InvalidError } from './errors.js';

/** Deepest nesting of arrays and objects accepted in a request body (JSON that deep is never a record). */
export const MAX_JSON_DEPTH = 64;

/**
 * Refuses a parsed JSON value nesting deeper than MAX_JSON_DEPTH (checked without recursion, so the
 * check itself cannot overflow the stack); `where` names the value in the message.
 */
export function assertJsonDepth(value: unknown, where = 'request body'): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_JSON_DEPTH)
      throw new InvalidError('too_deep', `${where}: nested deeper than ${MAX_JSON_DEPTH} levels`);
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
}
