import { compileExpression, ExpressionError } from '@sluice/engine/expressions';

/** A syntax error to underline: characters from..to of the expression, and what is wrong. */
export interface ExpressionDiagnostic {
  from: number;
  to: number;
  message: string;
}

/**
 * The engine's message without the expression it quotes ("expression `a +`: …"): the user is looking
 * at it. " at character N" becomes "(at character N)".
 */
export function engineMessage(source: string, message: string): string {
  const quoted = `expression \`${source}\``;
  let text = message.startsWith(quoted) ? message.slice(quoted.length) : message;
  if (text.startsWith(': ')) text = text.slice(2);
  else if (text.startsWith(' ')) text = `The expression ${text.slice(1)}.`;
  return text.replace(/ at character (\d+)$/, ' (at character $1)');
}

/**
 * The syntax errors of an expression, compiled by the engine as a run compiles it. JSONata gives the
 * position just after the offending token; the underline covers the character before it (or the last one).
 */
export function expressionDiagnostics(source: string): ExpressionDiagnostic[] {
  if (source.trim() === '') return [];
  try {
    compileExpression(source);
    return [];
  } catch (error) {
    const message = error instanceof Error ? engineMessage(source, error.message) : String(error);
    const position =
      error instanceof ExpressionError && typeof error.position === 'number' ? error.position : source.length;
    const to = Math.max(1, Math.min(source.length, position));
    return [{ from: Math.max(0, to - 1), to, message }];
  }
}
