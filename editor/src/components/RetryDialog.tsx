import { useState } from 'react';
import type { RetryDialogProps, RetryRequest } from '../hooks/useRetry';
import { ConfirmDialog } from './ConfirmDialog';

const quoted = (labels: string[]) => labels.map((l) => `“${l}”`).join(', ');

/** "Retry failed": on the version the run ran, or on the current one (preselected when it differs). */
export function RetryDialog({
  runVersion,
  latestVersion,
  count,
  edited,
  unsaved,
  reach,
  onRetry,
  onCancel,
}: RetryDialogProps) {
  const differs = runVersion !== null && latestVersion !== null && runVersion !== latestVersion;
  const [version, setVersion] = useState<RetryRequest['version']>(differs ? 'current' : 'original');
  const records = `${count} failed record${count === 1 ? '' : 's'}`;
  return (
    <ConfirmDialog
      title={`Retry ${records}`}
      testId="retry-dialog"
      onCancel={onCancel}
      choices={[
        { label: 'Cancel', onChoose: onCancel, testId: 'retry-cancel' },
        { label: 'Retry', kind: 'primary', onChoose: () => onRetry(version), testId: 'retry-confirm' },
      ]}
    >
      <p>
        A new run feeds {count === 1 ? 'it' : 'them'} into the step{count === 1 ? '' : 's'} where{' '}
        {count === 1 ? 'it' : 'they'} failed
        {edited === 0
          ? ''
          : edited === count
            ? `, with the edited payload${count === 1 ? '' : 's'}`
            : `, ${edited} of them with ${edited === 1 ? 'its' : 'their'} edited payload${edited === 1 ? '' : 's'}`}
        .
      </p>
      <p data-testid="retry-version-note">
        {differs
          ? `The flow changed since this run: it ran version ${runVersion}, the current version is ${latestVersion}.`
          : `This run ran the current version${latestVersion !== null ? ` (${latestVersion})` : ''}.`}
      </p>
      {differs && (
        <fieldset className="retry-versions">
          <label>
            <input
              type="radio"
              name="retry-version"
              data-testid="retry-version-current"
              checked={version === 'current'}
              onChange={() => setVersion('current')}
            />
            Current version{latestVersion !== null ? ` (v${latestVersion})` : ''}
            {differs && <span className="muted"> — with the changes made since</span>}
          </label>
          <label>
            <input
              type="radio"
              name="retry-version"
              data-testid="retry-version-original"
              checked={version === 'original'}
              onChange={() => setVersion('original')}
            />
            Original version{runVersion !== null ? ` (v${runVersion})` : ''}
            {differs && <span className="muted"> — as the run ran</span>}
          </label>
        </fieldset>
      )}
      {version === 'current' && reach && reach.changedAtFailure.length > 0 && (
        <p data-testid="retry-reach-at">The retry runs the new settings of {quoted(reach.changedAtFailure)}.</p>
      )}
      {version === 'current' && reach && reach.changedBefore.length > 0 && (
        <p className="retry-warning" data-testid="retry-reach-before">
          Failed records re-enter at the step where they failed, with the payload they had there: the changes to{' '}
          {quoted(reach.changedBefore)} before it do not reach them. Edit their payloads to fix them, or run the flow
          again.
        </p>
      )}
      {unsaved && (
        <p className="retry-warning" data-testid="retry-unsaved">
          The flow has unsaved changes: the retry runs the saved version. Save first to retry with them.
        </p>
      )}
    </ConfirmDialog>
  );
}
