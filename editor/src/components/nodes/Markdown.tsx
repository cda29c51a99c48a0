import { Fragment } from 'react';
import { type Inline, parseMarkdown } from '../../lib/markdown';

function Inlines({ content }: { content: Inline[] }) {
  return (
    <>
      {content.map((part, i) => {
        const key = `${i}:${part.kind}`;
        if (part.kind === 'bold') return <strong key={key}>{part.text}</strong>;
        if (part.kind === 'italic') return <em key={key}>{part.text}</em>;
        if (part.kind === 'code') return <code key={key}>{part.text}</code>;
        if (part.kind === 'link')
          return (
            <a key={key} href={part.href} target="_blank" rel="noopener noreferrer">
              {part.text}
            </a>
          );
        return <Fragment key={key}>{part.text}</Fragment>;
      })}
    </>
  );
}

/** A note's markdown drawn as React elements (never as HTML). */
export function Markdown({ source }: { source: string }) {
  return (
    <>
      {parseMarkdown(source).map((block, i) => {
        const key = `${i}:${block.kind}`;
        if (block.kind === 'heading') {
          const Tag = (['h1', 'h2', 'h3'] as const)[block.level - 1] ?? 'h3';
          return (
            <Tag key={key}>
              <Inlines content={block.content} />
            </Tag>
          );
        }
        if (block.kind === 'list')
          return (
            <ul key={key}>
              {block.items.map((item, j) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: list items have no identity but their place
                <li key={j}>
                  <Inlines content={item} />
                </li>
              ))}
            </ul>
          );
        return (
          <p key={key}>
            <Inlines content={block.content} />
          </p>
        );
      })}
    </>
  );
}
