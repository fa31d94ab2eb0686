#pragma once

#include <cstdint>
#include <memory>

#include "dispatcher.h"

namespace EnvoyTsHost {

// Something a filter scheduler delivers committed events to (an HTTP or a network filter).
class ScheduledTarget {
public:
  virtual void onScheduled(uint64_t event_id) = 0;

protected:
  ~ScheduledTarget() = default;
};

// Shared between a filter and its schedulers: the worker's post queue, and the filter while it
// is alive. `target` is only read and cleared on the worker, so commits from other threads never
// touch a destroyed filter (nor a destroyed dispatcher: the queue outlives it, closed).
struct FilterLiveness {
  FilterLiveness(PostQueueSharedPtr q, ScheduledTarget* t) : queue(std::move(q)), target(t) {}
  const PostQueueSharedPtr queue;
  ScheduledTarget* target;
};

// The scheduler_new / commit / delete callbacks of every filter kind (Envoy's
// DynamicModule*FilterScheduler): holds only the liveness token, never the filter, so commits
// after the filter died are dropped on the worker and the scheduler may outlive the filter.
void* newFilterScheduler(std::shared_ptr<FilterLiveness> liveness);
void commitFilterScheduler(void* scheduler, uint64_t event_id); // Any thread.
void deleteFilterScheduler(void* scheduler);

} // namespace EnvoyTsHost
