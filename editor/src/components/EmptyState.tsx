interface Props {
  onReload: () => void;
}

/** What a first-time user sees before any flow exists. */
export function EmptyState({ onReload }: Props) {
  return (
    <div className="empty-state" data-testid="flows-empty">
      <h2>No flows yet</h2>
      <p>
        A flow moves records in batches: a trigger starts it, a source reads records, steps such as Batch, Filter and
        Map shape them, and a sink writes them out. Failed records are kept so you can see why they failed.
      </p>
      <p>
        Press <strong>New flow</strong> on the left: start from a blank canvas or from an example, drag steps from the
        palette, connect them, and press Run.
      </p>
      <button type="button" className="button" onClick={onReload}>
        Check again
      </button>
    </div>
  );
}
