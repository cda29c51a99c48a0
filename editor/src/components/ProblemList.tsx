import type { Problem } from '@sluice/shared';
import { problemMessage, sortProblems } from '../lib/problems';
import { Section } from './Section';

interface Props {
  problems: readonly Problem[];
  /** The document the problems are about: nodes are named by their labels, fields by theirs. */
  doc: unknown;
  /** Selects the node a problem is about. */
  onSelectNode?: (nodeId: string) => void;
}

/** Validation problems of the open flow in plain language, errors first. */
export function ProblemList({ problems, doc, onSelectNode }: Props) {
  const sorted = sortProblems(problems);
  return (
    <Section id="problems" title="Problems" count={problems.length} className="problems-section">
      {problems.length === 0 ? (
        <p className="muted ok-text">No problems found.</p>
      ) : (
        <ul className="problem-list" data-testid="problem-list">
          {sorted.map((p) => {
            const text = problemMessage(doc, p);
            const nodeId = p.nodeId;
            return (
              <li
                key={`${p.code}:${p.path}:${p.message}`}
                className={`problem problem-${p.severity}`}
                data-testid="problem"
                data-path={p.path}
              >
                <span className="problem-severity">{p.severity}</span>
                {nodeId && onSelectNode ? (
                  <button type="button" className="problem-message link-button" onClick={() => onSelectNode(nodeId)}>
                    {text}
                  </button>
                ) : (
                  <span className="problem-message">{text}</span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Section>
  );
}
