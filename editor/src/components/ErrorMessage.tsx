interface Props {
  title?: string;
  message: string;
  onRetry?: () => void;
}

/** A readable failure, with a way to try again when there is one. */
export function ErrorMessage({ title, message, onRetry }: Props) {
  return (
    <div className="error-message" role="alert" data-testid="error-message">
      <div className="error-message-text">
        {title && <strong>{title}</strong>}
        <span>{message}</span>
      </div>
      {onRetry && (
        <button type="button" className="button button-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
