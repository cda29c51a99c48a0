import { type FitViewOptions, useReactFlow, useStore } from '@xyflow/react';
import { useEffect } from 'react';

/** Fits the whole flow into view again whenever the canvas changes size. */
export function FitViewOnResize({ options }: { options: FitViewOptions }) {
  const { fitView } = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  useEffect(() => {
    if (width > 0 && height > 0) void fitView(options);
  }, [width, height, fitView, options]);
  return null;
}
