import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { tickDrainer, tickInfoOf } from '../tick-queue';

describe("Node's tick queue on the way out of a call", () => {
  test("tickInfoOf finds the tick info through the loader this Node has, else gives up", () => {
    const tickInfo = new Uint8Array(2);
    const tried: string[] = [];
    const node18 = (id: string): unknown => {
      tried.push(id);
      if (id !== 'internal/bootstrap/loaders') throw new TypeError(`Missing internal module '${id}'`);
      return { internalBinding: (name: string) => (name === 'task_queue' ? { tickInfo } : {}) };
    };
    assert.equal(tickInfoOf(node18), tickInfo);
    assert.deepEqual(tried, ['internal/bootstrap/realm', 'internal/bootstrap/loaders']);
    assert.equal(tickInfoOf(() => ({})), undefined, 'no internalBinding');
    assert.equal(tickInfoOf(() => ({ internalBinding: () => ({ tickInfo: new Int32Array(2) }) })), undefined,
                 'not the shape the native side reads');
  });

  test('a throwing nextTick callback is reported and the queue goes on', () => {
    const queue: (() => void)[] = [
      () => undefined,
      () => { throw new Error('tick 2'); },
      () => undefined,
    ];
    const ran: number[] = [];
    const uncaught: unknown[] = [];
    const drain = tickDrainer({
      _tickCallback: () => {
        while (queue.length > 0) {
          const tick = queue.shift() as () => void;
          ran.push(queue.length);
          tick();
        }
      },
    }, (error) => uncaught.push(error));
    drain();
    assert.deepEqual(ran, [2, 1, 0]);
    assert.equal(uncaught.length, 1);
    assert.match(String(uncaught[0]), /tick 2/);
  });
});
