import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { HookKind, WatchSlot } from '../codes';
import { CONFIG_LOAD_BUDGET_MS, DEFAULT_CPU_BUDGET_MS, RECOVERY_BUDGET_MS } from '../cpu-budget';
import { setup, withChain } from './fake-binding';

describe('CPU budget (the watch slots the native watchdog reads)', () => {
  test("each filter's hook runs as a new section with its filter's budget", () => {
    const seen: [string, number, number][] = [];
    let slots: Int32Array | undefined;
    const record = (name: string) => defineHttpFilter({
      name,
      onRequestHeaders() {
        const s = slots as Int32Array;
        seen.push([name, s[WatchSlot.BudgetMs] as number, s[WatchSlot.Sequence] as number]);
      },
    });
    const { binding } = withChain([record('a'), record('b')], [{ name: 'a', cpuBudgetMs: 7 }, { name: 'b' }]);
    slots = binding.watchSlots;
    assert.ok(slots !== undefined, 'the runtime handed its watch slots to the binding');
    binding.hook(binding.openStream(1), HookKind.RequestHeaders);
    assert.deepEqual(seen.map(([name, budget]) => [name, budget]), [['a', 7], ['b', DEFAULT_CPU_BUDGET_MS]]);
    const [first, second] = seen.map(([, , sequence]) => sequence);
    assert.equal(((second as number) - (first as number)) % 2, 0, 'the sequence keeps its parity');
    assert.notEqual(first, second, 'each hook is a section of its own');
  });

  test('other sections get the largest budget of the loaded configs; 0 (none) is the largest', () => {
    const { binding, runtime } = setup({ loadBundle: () => [defineHttpFilter({ name: 'a' })] });
    const config = (chain: unknown[], extra = {}) =>
      JSON.stringify({ bundle: '/fake/bundle.js', chain, ...extra });
    assert.equal(runtime.loadConfig(1, config([{ name: 'a' }], { cpuBudgetMs: 30 }), 0), undefined);
    const slots = binding.watchSlots as Int32Array;
    assert.equal(slots[WatchSlot.DefaultBudgetMs], 30);
    assert.equal(runtime.loadConfig(2, config([{ name: 'a', cpuBudgetMs: 80 }], { cpuBudgetMs: 30 }), 0), undefined);
    assert.equal(slots[WatchSlot.DefaultBudgetMs], 80);
    assert.equal(runtime.loadConfig(3, config([{ name: 'a', cpuBudgetMs: 0 }]), 0), undefined);
    assert.equal(slots[WatchSlot.DefaultBudgetMs], 0);
    runtime.unloadConfig(3);
    assert.equal(slots[WatchSlot.DefaultBudgetMs], 80);
    runtime.unloadConfig(2);
    runtime.unloadConfig(1);
    assert.equal(slots[WatchSlot.DefaultBudgetMs], DEFAULT_CPU_BUDGET_MS);
  });

  test("a bundle's top level runs under the config-load budget", () => {
    let budget: number | undefined;
    const context = setup({
      loadBundle: () => {
        budget = context.binding.watchSlots?.[WatchSlot.BudgetMs];
        return [defineHttpFilter({ name: 'a' })];
      },
    });
    assert.equal(context.runtime.loadConfig(1, JSON.stringify({ bundle: '/fake/b.js', chain: [{ name: 'a' }] }), 0),
                 undefined);
    assert.equal(budget, CONFIG_LOAD_BUDGET_MS);
  });

  test('recovering from a stopped section is a section of its own, under the recovery budget', () => {
    const { binding, runtime } = setup();
    const slots = binding.watchSlots as Int32Array;
    const sequenceBefore = slots[WatchSlot.Sequence] as number;
    let budgetWhileLogging: number | undefined;
    const log = binding.log.bind(binding);
    binding.log = (level, message) => {
      budgetWhileLogging = slots[WatchSlot.BudgetMs];
      log(level, message);
    };
    runtime.onBudgetExceeded(0, 0, 20, '\n    at spin (/nowhere/bundle.js:1:1)');
    assert.equal(budgetWhileLogging, RECOVERY_BUDGET_MS, 'the report is written under the recovery budget');
    const sequenceAfter = slots[WatchSlot.Sequence] as number;
    assert.notEqual(sequenceAfter, sequenceBefore, 'a new section');
    assert.equal((sequenceAfter - sequenceBefore) % 2, 0, 'the sequence keeps its parity');
  });
});
