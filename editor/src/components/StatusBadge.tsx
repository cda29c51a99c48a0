interface Props {
  status: string;
  testId?: string;
}

/** A run status as a coloured pill whose text is exactly the status word. */
export function StatusBadge({ status, testId }: Props) {
  return (
    <span className={`status status-${status}`} data-testid={testId}>
      {status}
    </span>
  );
}
