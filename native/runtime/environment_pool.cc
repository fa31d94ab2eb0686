#include "native/runtime/environment_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "native/runtime/log.h"

namespace envoy_ts::runtime {
namespace {

struct PoolState {
  BindingInitializer binding = nullptr;
  EnvironmentPool::Warmer warmer = nullptr;
  std::mutex mu;
  std::deque<std::unique_ptr<Environment>> ready;  // detached, warmed; guarded by mu
  // Environments made so far, taken or not: grown by the main thread (prepare), shrunk when a
  // prepared one breaks (main thread, or the bundle watcher's during a reload).
  std::atomic<size_t> created{0};
  bool replenishing = false;  // a helper thread prepares one more; guarded by mu
  std::thread replenisher;    // that thread; guarded by mu
};

// Leaked on purpose: prepared environments may outlive every config.
PoolState& pool() {
  static PoolState* state = new PoolState();
  return *state;
}

// Runs on a helper thread: create, warm, then release the environment for another thread.
std::unique_ptr<Environment> createDetached(uint64_t config_id, std::string& config_error) {
  PoolState& state = pool();
  std::string error;
  auto started = std::chrono::steady_clock::now();
  std::unique_ptr<Environment> env =
      Environment::create(Environment::Role::Worker, state.binding, error);
  if (env == nullptr) {
    log(LogLevel::Error, "cannot prepare a worker environment: " + error);
    return nullptr;
  }
  config_error = state.warmer(*env, config_id);
  if (env->broken() != Environment::Broken::No) {
    return nullptr;  // logged when it broke; destroyed here, on its thread
  }
  env->detachFromCurrentThread();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - started)
                .count();
  log(LogLevel::Debug, "prepared a worker environment in " + std::to_string(ms) + " ms");
  return env;
}

// The last prepared environment was taken (by a worker whose environment broke, or one more
// worker than prepared): a helper thread prepares another, off the workers' path.
void replenishLocked(PoolState& state) {
  if (!state.ready.empty() || state.replenishing) {
    return;
  }
  state.replenishing = true;
  if (state.replenisher.joinable()) {
    state.replenisher.join();  // the previous one is done: it cleared `replenishing`
  }
  state.replenisher = std::thread([&state] {
    std::string ignored;
    std::unique_ptr<Environment> env = createDetached(0, ignored);
    std::lock_guard<std::mutex> lock(state.mu);
    if (env != nullptr) {
      state.ready.push_back(std::move(env));
    }
    state.replenishing = false;
  });
}



}  // namespace

void EnvironmentPool::configure(BindingInitializer binding, Warmer warmer) {
  pool().binding = binding;
  pool().warmer = warmer;
}

void EnvironmentPool::finishBackgroundWork() {
  std::thread replenisher;
  {
    std::lock_guard<std::mutex> lock(pool().mu);
    replenisher = std::move(pool().replenisher);
  }
  if (replenisher.joinable()) {
    replenisher.join();
  }
}

std::string EnvironmentPool::prepare(size_t count, uint64_t config_id) {
  PoolState& state = pool();
  const size_t wanted = count + 1;  // the spare
  const size_t created = state.created.load();
  size_t missing = wanted > created ? wanted - created : 0;
  state.created += missing;
  std::string first_error;

  // Environments made before this config was loaded get it now, on this thread.
  forEachPrepared([&](Environment& env) {
    std::string error = state.warmer(env, config_id);
    if (first_error.empty()) {
      first_error = std::move(error);
    }
    return true;
  });

  // New ones are created (and warmed) in parallel, one helper thread per CPU at most.
  std::atomic<size_t> remaining{missing};
  auto work = [&state, &remaining, &first_error, config_id] {
    while (true) {
      size_t left = remaining.load();
      if (left == 0 || !remaining.compare_exchange_weak(left, left - 1)) {
        if (left == 0) {
          return;
        }
        continue;
      }
      std::string error;
      if (std::unique_ptr<Environment> env = createDetached(config_id, error)) {
        std::lock_guard<std::mutex> lock(state.mu);
        state.ready.push_back(std::move(env));
        if (first_error.empty()) {
          first_error = std::move(error);
        }
      }
    }
  };
  size_t threads = std::min<size_t>(missing, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> helpers;
  for (size_t i = 0; i < threads; ++i) {
    helpers.emplace_back(work);
  }
  for (std::thread& helper : helpers) {
    helper.join();
  }
  return first_error;
}

// Thread-safety: the deque is only touched under state.mu, which is held while each environment
// is attached here; an environment is used by one thread at a time (its v8::Locker), and a
// detached one belongs to whoever holds state.mu.
size_t EnvironmentPool::forEachPrepared(const std::function<bool(Environment& env)>& fn) {
  PoolState& state = pool();
  std::lock_guard<std::mutex> lock(state.mu);
  size_t seen = 0;
  bool go_on = true;
  for (auto it = state.ready.begin(); go_on && it != state.ready.end();) {
    Environment& env = **it;
    ++seen;
    env.attachToCurrentThread();
    go_on = fn(env);
    if (env.broken() != Environment::Broken::No) {
      it = state.ready.erase(it);  // logged when it broke; torn down on this thread
      --state.created;
      continue;
    }
    env.detachFromCurrentThread();
    ++it;
  }
  return seen;
}

Environment* EnvironmentPool::forWorkerThread(std::string& error) {
  Environment::destroyRetired();
  if (Environment* env = Environment::current()) {
    return env;
  }
  PoolState& state = pool();
  std::unique_ptr<Environment> env;
  {
    std::lock_guard<std::mutex> lock(state.mu);
    if (!state.ready.empty()) {
      env = std::move(state.ready.front());
      state.ready.pop_front();
    }
    replenishLocked(state);
  }
  if (env != nullptr) {
    if (env->attachedBetweenCalls()) {
      env->attachToCurrentThread();
    }
  } else {
    log(LogLevel::Warn,
        "no prepared Node.js environment is ready for this worker; creating one now (the first "
        "request on this worker waits for it). This happens with more workers than prepared "
        "environments (see ENVOY_TS_WORKER_ENVIRONMENTS in README.md), or when environments "
        "broke faster than new ones were prepared");
    env = Environment::create(Environment::Role::Worker, state.binding, error);
    if (env == nullptr) {
      return nullptr;
    }
    state.warmer(*env, 0);
    if (!env->attachedBetweenCalls() && env->attached()) {
      env->detachFromCurrentThread();  // CallScope attaches it for each call from Envoy
    }
  }
  Environment* raw = env.get();
  Environment::setCurrent(std::move(env));
  return raw;
}

}  // namespace envoy_ts::runtime
