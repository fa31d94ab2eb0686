#include "native/runtime/environment_pool.h"

#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "native/runtime/log.h"

namespace envoy_ts::runtime {
namespace {

struct PoolState {
  BindingInitializer binding = nullptr;
  EnvironmentPool::Warmer warmer = nullptr;
  std::mutex mu;
  std::condition_variable ready_cv;
  std::deque<std::unique_ptr<Environment>> ready;  // detached, warmed
  size_t requested = 0;   // environments asked for by prepare() so far
  size_t produced = 0;    // prepared, or failed to prepare
  bool preparing = false; // a background thread is running
  bool exiting = false;   // the process is exiting: prepare nothing more
};

// Leaked on purpose: prepared environments may outlive every config.
PoolState& pool() {
  static PoolState* state = new PoolState();
  return *state;
}

void prepareInBackground() {
  PoolState& state = pool();
  while (true) {
    {
      std::lock_guard<std::mutex> lock(state.mu);
      if (state.produced >= state.requested || state.exiting) {
        state.preparing = false;
        state.ready_cv.notify_all();
        return;
      }
    }
    std::string error;
    auto started = std::chrono::steady_clock::now();
    std::unique_ptr<Environment> env =
        Environment::create(Environment::Role::Worker, state.binding, error);
    if (env != nullptr) {
      state.warmer(*env);
      env->detachFromCurrentThread();
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
      log(LogLevel::Debug, "prepared a worker environment in " + std::to_string(ms) + " ms");
    } else {
      log(LogLevel::Error, "cannot prepare a worker environment: " + error);
    }
    std::lock_guard<std::mutex> lock(state.mu);
    ++state.produced;
    if (env != nullptr) {
      state.ready.push_back(std::move(env));
    }
    state.ready_cv.notify_all();
  }
}

// Runs at exit (e.g. Envoy rejecting a later config): let an environment being created finish
// instead of tearing the process down under V8's feet.
void stopPreparing() {
  PoolState& state = pool();
  std::unique_lock<std::mutex> lock(state.mu);
  state.exiting = true;
  state.ready_cv.wait(lock, [&] { return !state.preparing; });
}

}  // namespace

void EnvironmentPool::configure(BindingInitializer binding, Warmer warmer) {
  pool().binding = binding;
  pool().warmer = warmer;
  std::atexit(stopPreparing);
}

void EnvironmentPool::prepare(size_t count) {
  PoolState& state = pool();
  std::lock_guard<std::mutex> lock(state.mu);
  if (count <= state.requested) {
    return;
  }
  state.requested = count;
  if (!state.preparing) {
    state.preparing = true;
    std::thread(prepareInBackground).detach();
  }
}

Environment* EnvironmentPool::forWorkerThread(std::string& error) {
  if (Environment* env = Environment::current()) {
    return env;
  }
  PoolState& state = pool();
  std::unique_ptr<Environment> env;
  {
    std::unique_lock<std::mutex> lock(state.mu);
    state.ready_cv.wait(lock, [&] { return !state.ready.empty() || !state.preparing; });
    if (!state.ready.empty()) {
      env = std::move(state.ready.front());
      state.ready.pop_front();
    }
  }
  if (env != nullptr) {
    env->attachToCurrentThread();
  } else {
    log(LogLevel::Warn,
        "no prepared Node.js environment left for this worker; creating one now (the first "
        "request on this worker waits for it). More workers than prepared environments: see "
        "ENVOY_TS_WORKER_ENVIRONMENTS in README.md");
    env = Environment::create(Environment::Role::Worker, state.binding, error);
    if (env == nullptr) {
      return nullptr;
    }
    state.warmer(*env);
  }
  Environment* raw = env.get();
  Environment::setCurrent(std::move(env));
  return raw;
}

}  // namespace envoy_ts::runtime
