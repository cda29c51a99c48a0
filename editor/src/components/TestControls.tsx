import type { TestRun } from '../hooks/useTestRun';
import './node-data.css';

interface Props {
  run: TestRun;
  disabled: boolean;
}

/** The toolbar's Test button, with how many records each source reads and whether writes are sent. */
export function TestControls({ run, disabled }: Props) {
  return (
    <fieldset className="test-controls" aria-label="Test run">
      <button
        type="button"
        className="button button-small"
        data-testid="test-button"
        disabled={disabled || run.testing}
        onClick={() => run.test()}
        title="Run the flow as it is now on the first records of its sources; writes are not sent (Ctrl+Shift+Enter)"
      >
        {run.testing ? 'Testing…' : 'Test'}
      </button>
      <label className="test-limit" title="Records each source reads in a test">
        on
        <input
          type="number"
          min={1}
          max={1000}
          data-testid="test-limit"
          value={run.limit}
          onChange={(e) => run.setLimit(Math.max(1, Math.min(1000, Math.round(Number(e.target.value)) || 1)))}
        />
        records
      </label>
      <label
        className="toolbar-toggle"
        title="Send HTTP writes, entity writes and file sinks for real in tests; off: each shows the request it would make"
      >
        <input
          type="checkbox"
          data-testid="test-send-writes"
          checked={run.sendWrites}
          onChange={(e) => run.setSendWrites(e.target.checked)}
        />
        send writes
      </label>
    </fieldset>
  );
}
