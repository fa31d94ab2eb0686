// A StreamRuntime standing in for the environment's JavaScript runtime: each call into it answers
// what the test queued (and can run test code while "JS runs"), and it records what it was asked.
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "native/module/stream_runtime.h"

namespace envoy_ts::test {

class FakeStreamRuntime final : public module::StreamRuntime {
 public:
  // What the next runHook or resume answers: its outcome, the wait it reports, and what runs
  // meanwhile (JS settling, a local reply's nested hook, ...).
  struct Answer {
    bridge::HookOutcome outcome = bridge::HookOutcome::Continue;
    uint32_t waiting = bridge::WaitReport::kNone;
    std::function<void()> meanwhile;
  };
  std::deque<Answer> answers;

  // What it saw.
  struct Hook {
    bridge::HookKind kind;
    uint32_t flags;
    uint64_t route_config_id;
  };
  std::vector<Hook> hooks;
  int resumes = 0;
  int pumps = 0;
  int depth = 0;
  std::vector<runtime::WakeTarget*> waiters;
  std::vector<bool> closed;  // notify_js of each close
  bool has_config = true;
  bool is_broken = false;
  // Runs once, in the next pump (JS the loop runs).
  std::function<void()> next_pump;

  void enterCall() override { ++depth; }
  void leaveCall() override { --depth; }
  void pump(bool) override {
    ++pumps;
    if (next_pump) {
      auto run = std::move(next_pump);
      next_pump = nullptr;
      run();
    }
  }
  bool broken() const override { return is_broken; }
  void addWaiter(runtime::WakeTarget* stream) override { waiters.push_back(stream); }
  void removeWaiter(runtime::WakeTarget* stream) override {
    for (auto it = waiters.begin(); it != waiters.end(); ++it) {
      if (*it == stream) {
        waiters.erase(it);
        return;
      }
    }
  }
  void leaveStreamCall() override {}
  bool hasConfig(uint64_t) override { return has_config; }
  bridge::HookOutcome runHook(uint64_t, bridge::StreamRef, bridge::HookKind hook, uint32_t flags,
                              uint64_t route_config_id, uint32_t& waiting) override {
    hooks.push_back({hook, flags, route_config_id});
    return answer(waiting);
  }
  bridge::HookOutcome runNetworkHook(uint64_t, bridge::StreamRef, bridge::NetworkHookKind,
                                     bool) override {
    uint32_t ignored = 0;
    return answer(ignored);
  }
  bridge::HookOutcome resume(bridge::StreamRef, uint32_t& waiting) override {
    ++resumes;
    return answer(waiting);
  }
  void close(bridge::StreamRef, bool notify_js) override { closed.push_back(notify_js); }

 private:
  bridge::HookOutcome answer(uint32_t& waiting) {
    if (is_broken) {
      return bridge::HookOutcome::Failed;
    }
    Answer next;
    if (!answers.empty()) {
      next = std::move(answers.front());
      answers.pop_front();
    }
    if (next.meanwhile) {
      next.meanwhile();
    }
    waiting = next.waiting;
    return next.outcome;
  }
};

}  // namespace envoy_ts::test
