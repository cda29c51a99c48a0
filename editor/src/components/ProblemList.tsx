import type { Problem } from '@sluice/shared';
import { Section } from './Section';

interface Props {
  problems: Problem[];
}

/** Validation problems of the open flow, errors first. */
export function ProblemList({ problems }: Props) {
  const sorted = [...problems].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  return (
    <Section id="problems" title="Problems" count={problems.length} className="problems-section">
      {problems.length === 0 ? (
        <p className="muted ok-text">No problems found.</p>
      ) : (
        <ul className="problem-list" data-testid="problem-list">
          {sorted.map((p) => (
            <li
              key={`${p.code}:${p.path}:${p.message}`}
              className={`problem problem-${p.severity}`}
              data-testid="problem"
            >
              <span className="problem-severity">{p.severity}</span>
              <span className="problem-message">{p.message}</span>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
