import { describe, expect, it } from 'vitest';
import { auditQuery, describeActor, describeSummary, NO_FILTERS } from './audit';

describe('the audit screen’s logic', () => {
  it('leaves empty filters out of the query and takes in the whole of the last day', () => {
    expect(auditQuery(NO_FILTERS)).toEqual({});
    const q = auditQuery({ ...NO_FILTERS, actor: ' 3 ', objectType: 'flow', from: '2026-12-01', to: '2026-12-01' });
    expect(q.actorId).toBe('3');
    expect(q.objectType).toBe('flow');
    expect(Date.parse(q.to as string) - Date.parse(q.from as string)).toBe(86_400_000);
  });

  it('describes who and what changed in words', () => {
    expect(describeActor({ kind: 'token', id: '2', name: 'ci' })).toBe('ci');
    expect(describeActor({ kind: 'user', id: '7', name: 'Ada' })).toBe('Ada (user)');
    expect(describeSummary({ fields: ['baseUrl', 'secret'], version: 3 })).toBe('fields: baseUrl, secret · version: 3');
    expect(describeSummary(null)).toBe('');
  });
});
