interface Props {
  flowName: string | null;
  version: number | null;
  problemCount: number;
}

/** The top bar: product name and the flow that is open. */
export function Header({ flowName, version, problemCount }: Props) {
  return (
    <header className="header">
      <span className="brand">Sluice</span>
      {flowName && (
        <>
          <span className="header-separator" aria-hidden="true">
            /
          </span>
          <h1 className="header-flow" data-testid="flow-name">
            {flowName}
          </h1>
          {version !== null && <span className="header-version">v{version}</span>}
          {problemCount > 0 && (
            <span className="header-problems">
              {problemCount} problem{problemCount === 1 ? '' : 's'}
            </span>
          )}
        </>
      )}
    </header>
  );
}
