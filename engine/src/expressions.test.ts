import { EXPRESSION_LIMITS } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { compileExpression, ExpressionError } from './expressions.js';

/** A tail call: JSONata turns it into a loop, so it never overflows the stack and never yields. */
const TAIL_LOOP = '($f := function($x){ $f($x + 1) }; $f(1))';
/** Not a tail call (`1 +` waits for the result): each call nests deeper. */
const DEEP = '($f := function($x){ 1 + $f($x + 1) }; $f(1))';

describe('expression limits', () => {
  it('stops a tail-recursive loop at the time limit, and a timer set before it fires soon after', async () => {
    const started = performance.now();
    let firedAt: number | undefined;
    setTimeout(() => {
      firedAt = performance.now();
    }, 1);
    const error = await Promise.resolve(compileExpression(TAIL_LOOP).evaluate({})).then(
      () => undefined,
      (err: unknown) => err,
    );
    const ran = performance.now() - started;
    expect(error).toBeInstanceOf(ExpressionError);
    expect((error as Error).message).toBe(
      `expression \`${TAIL_LOOP}\` ran longer than ${EXPRESSION_LIMITS.timeout} ms (the limit)`,
    );
    expect(ran).toBeGreaterThanOrEqual(EXPRESSION_LIMITS.timeout - 5);
    expect(ran).toBeLessThan(EXPRESSION_LIMITS.timeout + 2_000);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(firedAt).toBeDefined();
    expect((firedAt as number) - started).toBeLessThan(ran + 200);
  });

  it('stops a recursion that nests too deeply, naming the depth limit', async () => {
    await expect(Promise.resolve(compileExpression(DEEP).evaluate({}))).rejects.toThrow(
      `expression \`${DEEP}\` nested deeper than ${EXPRESSION_LIMITS.stack} levels (the limit)`,
    );
  });

  it('lets an ordinary recursion and ordinary expressions through', async () => {
    const factorial = compileExpression('($f := function($n){ $n <= 1 ? 1 : $n * $f($n - 1) }; $f(n))');
    expect(await factorial.evaluate({ n: 10 })).toBe(3_628_800);
    expect(await compileExpression('$sum(items.price)').evaluate({ items: [{ price: 2 }, { price: 3 }] })).toBe(5);
  });

  it('keeps other errors as JSONata words them, with where', async () => {
    await expect(Promise.resolve(compileExpression('$number("abc") + 1').evaluate({}))).rejects.toThrow(
      /^expression `\$number\("abc"\) \+ 1`: .+/,
    );
  });
});
