import type { NodeProps, NodeTypes } from '@xyflow/react';
import { createElement, memo } from 'react';
import type { CanvasNode, NodeKind } from '../../lib/graph';
import { NodeCard } from './NodeCard';
import { NoteCard } from './NoteCard';

/** A memoised node component for one kind of node, drawn with that kind's accent. */
function nodeOfKind(kind: NodeKind, name: string) {
  const component = memo((props: NodeProps<CanvasNode>) => createElement(NodeCard, { ...props, kind }));
  component.displayName = name;
  return component;
}

export const TriggerNode = nodeOfKind('trigger', 'TriggerNode');
export const SourceNode = nodeOfKind('source', 'SourceNode');
export const ControlNode = nodeOfKind('control', 'ControlNode');
export const TransformNode = nodeOfKind('transform', 'TransformNode');
export const SinkNode = nodeOfKind('sink', 'SinkNode');
export const ErrorNode = nodeOfKind('error', 'ErrorNode');
export const UnknownNode = nodeOfKind('unknown', 'UnknownNode');

const byKind = {
  trigger: TriggerNode,
  source: SourceNode,
  control: ControlNode,
  transform: TransformNode,
  sink: SinkNode,
  error: ErrorNode,
  unknown: UnknownNode,
} satisfies Record<NodeKind, unknown>;

/** Node components by kind, and sticky notes, defined once so React Flow does not remount nodes on every render. */
export const nodeTypes: NodeTypes = { ...byKind, note: NoteCard };
