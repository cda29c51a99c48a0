import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AlertDeliveryRow, AlertRuleRow, Storage } from './port.js';
import { type StoreUnderTest, storesUnderTest } from './stores-under-test.js';

/** The alert methods of the storage port, on every store (see contract.test.ts). */
describe.each(storesUnderTest())('storage contract, alerts: $kind', (kind: StoreUnderTest) => {
  let s: Storage;
  let other: Storage | undefined;

  beforeAll(async () => {
    s = await kind.open();
  });
  afterEach(async () => {
    await other?.close();
    other = undefined;
  });
  afterAll(async () => {
    await s.close();
    await kind.dispose();
  });

  async function newFlow(name = 'alerting flow') {
    const id = `flow_${Math.random().toString(36).slice(2, 10)}`;
    await s.flows.create({ id, name, description: null, document: '{}', at: Date.now() });
    return id;
  }

  const ruleOf = (flowId: string, id = `al_${Math.random().toString(36).slice(2, 10)}`): AlertRuleRow => ({
    id,
    flowId,
    name: 'Run failed',
    enabled: true,
    condition: '{"kind":"run-failed"}',
    channel: '{"type":"webhook","url":"http://127.0.0.1:9/"}',
    secret: 'v1.sealed',
    createdAt: 1000,
    updatedAt: 1000,
  });

  const deliveryOf = (rule: AlertRuleRow, dedupe: string, at = 1000): Omit<AlertDeliveryRow, 'id'> => ({
    ruleId: rule.id,
    flowId: rule.flowId,
    runId: '7',
    rule: 'run-failed',
    channel: 'webhook',
    dedupe,
    payload: '{"summary":"it failed"}',
    status: 'pending',
    attempts: 0,
    lastError: null,
    nextAttemptAt: at,
    createdAt: at,
    deliveredAt: null,
  });

  it('keeps rules per flow: add, read, replace, remove', async () => {
    const flowId = await newFlow();
    const rule = ruleOf(flowId);
    await s.alerts.insertRule(rule);
    expect(await s.alerts.rules(flowId)).toEqual([rule]);
    expect(await s.alerts.rule(rule.id)).toEqual(rule);
    const changed = { ...rule, name: 'renamed', enabled: false, secret: null, updatedAt: 2000 };
    expect(await s.alerts.updateRule(changed)).toBe(true);
    expect(await s.alerts.rule(rule.id)).toEqual(changed);
    // a rule is changed and removed only through its own flow
    const elsewhere = await newFlow();
    expect(await s.alerts.updateRule({ ...changed, flowId: elsewhere })).toBe(false);
    expect(await s.alerts.deleteRule(elsewhere, rule.id)).toBe(false);
    expect(await s.alerts.deleteRule(flowId, rule.id)).toBe(true);
    expect(await s.alerts.rules(flowId)).toEqual([]);
  });

  it('adds an alert once per dedupe key, and lists deliveries newest first with the names', async () => {
    const flowId = await newFlow('named flow');
    const rule = ruleOf(flowId);
    await s.alerts.insertRule(rule);
    const first = await s.alerts.addDelivery(deliveryOf(rule, `${rule.id}:run:1`));
    expect(first).toMatch(/^\d+$/);
    expect(await s.alerts.addDelivery(deliveryOf(rule, `${rule.id}:run:1`))).toBeUndefined();
    const second = await s.alerts.addDelivery(deliveryOf(rule, `${rule.id}:run:2`));
    const listed = await s.alerts.deliveries({ flowId, limit: 10 });
    expect(listed.map((d) => d.id)).toEqual([second, first]);
    expect(listed[0]).toMatchObject({ flowName: 'named flow', ruleName: 'Run failed', status: 'pending', attempts: 0 });
    expect(await s.alerts.deliveries({ flowId, limit: 1 })).toHaveLength(1);
    // a flow removed takes its rules and deliveries with it
    await s.flows.remove(flowId);
    expect(await s.alerts.deliveries({ flowId, limit: 10 })).toEqual([]);
    expect(await s.alerts.rules(flowId)).toEqual([]);
  });

  it('prunes delivered and failed deliveries made before a time, never pending ones', async () => {
    const flowId = await newFlow();
    const rule = ruleOf(flowId);
    await s.alerts.insertRule(rule);
    const old = await s.alerts.addDelivery({ ...deliveryOf(rule, `${rule.id}:old`, 1000), status: 'delivered' });
    const oldFailed = await s.alerts.addDelivery({
      ...deliveryOf(rule, `${rule.id}:old-failed`, 1000),
      status: 'failed',
    });
    // (due far ahead: the claims of the other cases never see it)
    const oldPending = await s.alerts.addDelivery({
      ...deliveryOf(rule, `${rule.id}:old-pending`, 1000),
      nextAttemptAt: 9e15,
    });
    const recent = await s.alerts.addDelivery({ ...deliveryOf(rule, `${rule.id}:recent`, 5000), status: 'delivered' });
    expect(await s.alerts.pruneDeliveries(5000)).toBeGreaterThanOrEqual(2);
    const kept = (await s.alerts.deliveries({ flowId, limit: 10 })).map((d) => d.id);
    expect(kept).toEqual([recent, oldPending]);
    expect(kept).not.toContain(old);
    expect(kept).not.toContain(oldFailed);
  });

  it('lets one of two processes claim each due delivery; a claim expires; a settled delivery is not claimed again', async () => {
    other = await kind.open({ leaseOwner: 'other-process' });
    const flowId = await newFlow();
    const rule = ruleOf(flowId);
    await s.alerts.insertRule(rule);
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await s.alerts.addDelivery(deliveryOf(rule, `${rule.id}:claim:${i}`, 5000)));
    // not due yet
    expect(await s.alerts.claimDue('me', 4999, 10_000, 50)).toEqual([]);
    const [mine, theirs] = await Promise.all([
      s.alerts.claimDue('me', 5000, 10_000, 50),
      other.alerts.claimDue('them', 5000, 10_000, 50),
    ]);
    const all = [...mine, ...theirs].map((d) => d.id).sort();
    expect(all).toEqual([...ids].sort());
    // claimed: nobody gets them again until the claims expire
    expect(await s.alerts.claimDue('third', 9000, 20_000, 50)).toEqual([]);
    // only the holder may settle
    const one = (mine[0] ?? theirs[0]) as AlertDeliveryRow;
    const holder = mine.length ? 'me' : 'them';
    const attempt = {
      status: 'pending' as const,
      attempts: 1,
      lastError: 'HTTP 500',
      nextAttemptAt: 12_000,
      deliveredAt: null,
    };
    expect(await s.alerts.settle(one.id, 'not-the-holder', attempt)).toBe(false);
    expect(await s.alerts.settle(one.id, holder, attempt)).toBe(true);
    // its retry is due at 12 s; the others' claims expire at 10 s
    const afterExpiry = await s.alerts.claimDue('third', 10_001, 30_000, 50);
    expect(afterExpiry.map((d) => d.id).sort()).toEqual(ids.filter((id) => id !== one.id).sort());
    const retried = await s.alerts.claimDue('fourth', 12_000, 30_000, 50);
    expect(retried).toMatchObject([{ id: one.id, attempts: 1, lastError: 'HTTP 500' }]);
    expect(
      await s.alerts.settle(one.id, 'fourth', {
        status: 'delivered',
        attempts: 2,
        lastError: null,
        nextAttemptAt: 12_000,
        deliveredAt: 12_500,
      }),
    ).toBe(true);
    expect(await s.alerts.claimDue('fifth', 100_000, 200_000, 50)).not.toContainEqual(
      expect.objectContaining({ id: one.id }),
    );
    const [listed] = (await s.alerts.deliveries({ flowId, limit: 10 })).filter((d) => d.id === one.id);
    expect(listed).toMatchObject({ status: 'delivered', attempts: 2, lastError: null, deliveredAt: 12_500 });
  });
});
