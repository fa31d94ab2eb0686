// Metrics: proxy_define_metric, proxy_increment_metric, proxy_record_metric, proxy_get_metric
// (metric-table.ts says how they reach Envoy).

import { Status } from '../abi';
import type { WasmVm } from '../vm';
import type { HostCalls } from './index';

export function metricImports(vm: WasmVm): HostCalls {
  // The stream the running callback is for (its metrics record in Envoy), if any.
  const streamMetrics = () => vm.effective?.stream?.ctx.metrics;
  return {
    proxy_define_metric: (type: number, namePointer: number, nameSize: number, idOut: number): number => {
      const metric = vm.metrics.define(type, vm.memory.text(namePointer, nameSize));
      if (metric === undefined) return Status.BadArgument;
      vm.memory.writeU32(idOut, metric.id);
      vm.effective?.plugin.metricDefined(metric);
      return Status.Ok;
    },
    proxy_increment_metric: (id: number, delta: bigint): number => {
      const metric = vm.metrics.get(id >>> 0);
      if (metric === undefined) return Status.NotFound;
      if (delta < 0n && metric.kind !== 'gauge') return Status.BadArgument;
      vm.metrics.record(metric, metric.kind === 'histogram' ? 'record' : 'add', delta, streamMetrics());
      return Status.Ok;
    },
    proxy_record_metric: (id: number, value: bigint): number => {
      const metric = vm.metrics.get(id >>> 0);
      if (metric === undefined) return Status.NotFound;
      const unsigned = BigInt.asUintN(64, value);
      if (metric.kind === 'counter') {
        // A counter only goes up: setting it adds the difference.
        if (unsigned < metric.value) return Status.BadArgument;
        vm.metrics.record(metric, 'add', unsigned - metric.value, streamMetrics());
      } else {
        vm.metrics.record(metric, metric.kind === 'gauge' ? 'set' : 'record', unsigned, streamMetrics());
      }
      return Status.Ok;
    },
    proxy_get_metric: (id: number, valueOut: number): number => {
      const metric = vm.metrics.get(id >>> 0);
      if (metric === undefined) return Status.NotFound;
      vm.memory.writeU64(valueOut, metric.value);
      return Status.Ok;
    },
  };
}
