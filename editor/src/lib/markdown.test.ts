import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown } from './markdown';

describe('markdown of sticky notes', () => {
  it('reads headings, paragraphs and lists', () => {
    expect(parseMarkdown('# Nightly copy\n\nRuns at 02:00\nBerlin time.\n- one\n* two\n### end')).toEqual([
      { kind: 'heading', level: 1, content: [{ kind: 'text', text: 'Nightly copy' }] },
      { kind: 'paragraph', content: [{ kind: 'text', text: 'Runs at 02:00 Berlin time.' }] },
      { kind: 'list', items: [[{ kind: 'text', text: 'one' }], [{ kind: 'text', text: 'two' }]] },
      { kind: 'heading', level: 3, content: [{ kind: 'text', text: 'end' }] },
    ]);
  });

  it('reads bold, italic, code and http(s) links, and leaves anything else as text', () => {
    expect(parseInline('**50** per _batch_, `size` [docs](https://x.test/a) *now*')).toEqual([
      { kind: 'bold', text: '50' },
      { kind: 'text', text: ' per ' },
      { kind: 'italic', text: 'batch' },
      { kind: 'text', text: ', ' },
      { kind: 'code', text: 'size' },
      { kind: 'text', text: ' ' },
      { kind: 'link', text: 'docs', href: 'https://x.test/a' },
      { kind: 'text', text: ' ' },
      { kind: 'italic', text: 'now' },
    ]);
    // no script address becomes a link, and HTML stays text
    expect(parseInline('[x](javascript:alert(1)) <b>hi</b>')).toEqual([
      { kind: 'text', text: '[x](javascript:alert(1)) <b>hi</b>' },
    ]);
  });
});
