import type { z } from 'zod';
import type { NodeGroup } from '../vocabulary.js';

/** One entry of the node-type catalogue: what a node of this type looks like, not how it runs. */
export interface NodeTypeDefinition<P extends z.ZodType = z.ZodType, T extends string = string> {
  type: T;
  group: NodeGroup;
  label: string;
  description: string;
  /** Parameters, with defaults and a description per field (shown as help text in the editor). */
  params: P;
  /** Whether the node accepts records on its single input. Triggers do not. */
  input: boolean;
  /** Named outputs. Every node that can fail a record has an `error` port. */
  outputs: readonly string[];
  /** Roles the validator checks for: every flow needs a trigger and a source. */
  role?: 'trigger' | 'source' | 'sink' | 'error-handler';
  /** A trigger that brings its own records (a webhook): its flow needs no separate source. */
  providesRecords?: boolean;
}

/** Identity helper that keeps the type name and the parameter schema's type (see `NodeParams`). */
export function defineNodeType<const T extends string, P extends z.ZodType>(
  def: NodeTypeDefinition<P, T>,
): NodeTypeDefinition<P, T> {
  return def;
}
