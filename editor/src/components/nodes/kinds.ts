import type { NodeKind } from '../../lib/graph';

/** How each kind of node is named and coloured on the canvas and the minimap. */
export const KINDS: Record<NodeKind, { label: string; colour: string }> = {
  trigger: { label: 'Trigger', colour: '#7c3aed' },
  source: { label: 'Source', colour: '#0284c7' },
  control: { label: 'Flow control', colour: '#d97706' },
  transform: { label: 'Transform', colour: '#0d9488' },
  sink: { label: 'Sink', colour: '#16a34a' },
  error: { label: 'Errors', colour: '#dc2626' },
  unknown: { label: 'Unknown', colour: '#64748b' },
};

export function kindColour(kind: string | undefined): string {
  return KINDS[(kind ?? 'unknown') as NodeKind]?.colour ?? KINDS.unknown.colour;
}
