#include "native/runtime/environment.h"

#include <vector>

#include "native/runtime/embedded_runtime.h"
#include "native/runtime/inspector.h"
#include "native/runtime/log.h"
#include "native/runtime/loop_waker.h"
#include "native/runtime/node_process.h"
#include "node.h"

namespace envoy_ts::runtime {
namespace {

// Node-API version the binding is written against (Node 18 provides 8).
constexpr int32_t kNodeApiVersion = 8;

// Longest time I/O completions not tied to a waiting stream wait for a poll while hooks run.
constexpr uint64_t kMaxPollIntervalMs = 1;

// Heap V8 gets past the limit to finish the collection that hit it, once the environment's
// JavaScript has been stopped (Node's worker threads give the same leeway).
constexpr size_t kHeapLeewayBytes = 32u << 20;

thread_local Environment* current_ = nullptr;
thread_local Environment* being_created_ = nullptr;

// Destroys a worker's environments when its thread exits (on that thread, as V8 requires): the
// current one and the retired ones.
struct WorkerEnvironmentOwner {
  std::unique_ptr<Environment> env;
  std::vector<std::unique_ptr<Environment>> retired;
  ~WorkerEnvironmentOwner() {
    current_ = nullptr;
    env.reset();
    retired.clear();
  }
};
thread_local WorkerEnvironmentOwner worker_owner_;

const char* describe(Environment::Broken broken) {
  switch (broken) {
  case Environment::Broken::HeapExhausted:
    return "its JavaScript heap reached its limit (ENVOY_TS_HEAP_LIMIT_MB)";
  case Environment::Broken::ExternalMemory:
    return "its memory outside the JavaScript heap (ArrayBuffers, Buffers) grew past its limit "
           "(ENVOY_TS_EXTERNAL_MEMORY_LIMIT_MB)";
  case Environment::Broken::RuntimeFailing:
    return "the envoy-ts runtime's own code kept failing there (see the errors before this line)";
  case Environment::Broken::No:
    break;
  }
  return "it is healthy";
}

}  // namespace

Environment::Environment(Role role, std::unique_ptr<node::CommonEnvironmentSetup> setup)
    : role_(role),
      attaches_per_call_(role == Role::Worker && NodeProcess::inspector().has_value()),
      setup_(std::move(setup)),
      loop_(setup_->event_loop()) {}

std::unique_ptr<Environment> Environment::create(Role role, BindingInitializer binding,
                                                 std::string& error) {
  std::vector<std::string> errors;
  // No kOwnsProcessState / kOwnsInspector: several environments share this process with Envoy.
  auto flags = static_cast<node::EnvironmentFlags::Flags>(
      node::EnvironmentFlags::kNoGlobalSearchPaths | node::EnvironmentFlags::kTrackUnmanagedFds);
  auto setup = node::CommonEnvironmentSetup::Create(
      &NodeProcess::platform(), &errors, std::vector<std::string>{"envoy-ts"},
      std::vector<std::string>{}, flags);
  if (!setup) {
    error = "cannot create a Node.js environment:";
    for (const std::string& e : errors) {
      error.append(" ").append(e);
    }
    return nullptr;
  }
  std::unique_ptr<Environment> env(new Environment(role, std::move(setup)));
  env->attachToCurrentThread();
  if (!env->start(binding, error)) {
    return nullptr;  // the destructor tears the half-started environment down on this thread
  }
  return env;
}

bool Environment::start(BindingInitializer binding, std::string& error) {
  node::Environment* node_env = setup_->env();
  node::SetProcessExitHandler(node_env, [](node::Environment*, int code) {
    // Filters share the process with Envoy: process.exit() must never end it.
    log(LogLevel::Error,
        "process.exit(" + std::to_string(code) + ") called from JavaScript; ignored");
  });
  node::AddLinkedBinding(node_env, "envoy_ts", binding, kNodeApiVersion);

  uv_async_init(loop(), &keep_alive_, [](uv_async_t*) {});

  being_created_ = this;
  bool loaded;
  {
    v8::HandleScope scope(setup_->isolate());
    if (attaches_per_call_) {
      announceInspector(setup_->isolate(), setup_->context());
    }
    loaded = !node::LoadEnvironment(node_env, embeddedRuntimeSource()).IsEmpty();
  }
  being_created_ = nullptr;
  if (!loaded || napi_env_ == nullptr) {
    error = "the embedded envoy-ts runtime failed to start (its error is on stderr)";
    return false;
  }
  if (role_ == Role::Worker) {
    waker_ = std::make_unique<LoopWaker>(
        loop(), attaches_per_call_ ? static_cast<IdleTurnRunner*>(this) : nullptr);
    if (offloadPoolWakes()) {
      offload_wakes_.setWaker(waker_.get());
    }
  }
  CpuWatchdog::watch(watched_, setup_->isolate());
  setup_->isolate()->AddNearHeapLimitCallback(nearHeapLimit, this);
  pump();
  return true;
}

Environment::~Environment() {
  CpuWatchdog::unwatch(watched_);
  if (attaches_per_call_ && locker_ != nullptr) {
    // The waker may be waiting for the isolate to run an idle turn: let it, then join it.
    detachFromCurrentThread();
  }
  offload_wakes_.setWaker(nullptr);  // pool threads may still ask: they wake nothing
  waker_.reset();
  if (current_ == this) {
    current_ = nullptr;
  }
  if (locker_ == nullptr) {
    attachToCurrentThread();
  }
  if (attaches_per_call_ && broken_ == Broken::No) {
    v8::HandleScope scope(setup_->isolate());
    closeInspector(setup_->isolate(), setup_->context());
  }
  node::Stop(setup_->env());
  uv_close(reinterpret_cast<uv_handle_t*>(&keep_alive_), nullptr);
  uv_run(loop(), UV_RUN_NOWAIT);
  // Disposing an isolate requires that no thread has it entered.
  detachFromCurrentThread();
  setup_.reset();
}

struct Environment::RootHandleScope {
  explicit RootHandleScope(v8::Isolate* isolate) : scope(isolate) {}
  v8::HandleScope scope;
};

void Environment::attachToCurrentThread() {
  v8::Isolate* isolate = setup_->isolate();
  locker_ = std::make_unique<v8::Locker>(isolate);
  isolate->Enter();
  watched_.setThread(pthread_self());
  {
    v8::HandleScope scope(isolate);
    setup_->context()->Enter();
  }
  root_scope_ = std::make_unique<RootHandleScope>(isolate);
  static_cast<void>(setup_->context());  // the handle that takes the root scope's block
}

void Environment::detachFromCurrentThread() {
  v8::Isolate* isolate = setup_->isolate();
  root_scope_.reset();
  {
    v8::HandleScope scope(isolate);
    setup_->context()->Exit();
  }
  isolate->Exit();
  locker_.reset();
}

void Environment::addLinkedBinding(const char* name, LinkedBindingInit init, void* data) {
  node::AddLinkedBinding(setup_->env(), name, init, data);
}

void Environment::pump(Poll poll) {
  if (call_depth_ > 1 || pumping_ || broken_ != Broken::No) {
    return;
  }
  uv_loop_t* uv_loop = loop();
  // The clock, unless the call just read it: the loop's time (uv_now) is only updated when it
  // runs, so a timer is due when `now` reached the loop's time plus its timeout.
  uint64_t now_ms = clock_reading_ns_ / 1000000;
  if (clock_reading_ns_ == 0) {
    uv_update_time(uv_loop);
    now_ms = uv_now(uv_loop);
  }
  clock_reading_ns_ = 0;
  const int timeout = uv_backend_timeout(uv_loop);
  if (poll == Poll::Now || timeout == 0 ||
      (timeout > 0 && now_ms >= uv_now(uv_loop) + static_cast<uint64_t>(timeout)) ||
      now_ms >= last_poll_ms_ + kMaxPollIntervalMs) {
    pumping_ = true;
    // What the loop runs (timers, I/O callbacks, the promise jobs they queue) is a section of
    // its own for the CPU budget.
    watched_.restart();
    {
      v8::HandleScope scope(setup_->isolate());
      uv_run(uv_loop, UV_RUN_NOWAIT);
    }
    pumping_ = false;
    if (waker_ != nullptr) {
      waker_->pumped();
    }
    if (watched_.overrunPending() && broken_ == Broken::No && client_ != nullptr) {
      client_->onBudgetOverrun();
    }
    last_poll_ms_ = uv_now(uv_loop);
  }
}

void Environment::cancelTermination() { setup_->isolate()->CancelTerminateExecution(); }

// Runs on the environment's thread, inside the garbage collection that found the heap at its
// limit: the running JavaScript is stopped and the environment broken (V8 would abort the process
// otherwise). The extra room lets this collection, and the unwinding, finish.
size_t Environment::nearHeapLimit(void* data, size_t current_limit, size_t /*initial_limit*/) {
  auto* env = static_cast<Environment*>(data);
  if (env->broken_ == Broken::No) {
    env->broken_ = Broken::HeapExhausted;
    env->setup_->isolate()->TerminateExecution();
  }
  return current_limit + kHeapLeewayBytes;
}

void Environment::leaveOutermost() {
  watched_.leave();
  if (waker_ != nullptr && waker_->engaged() && broken_ == Broken::No) {
    // Once per call from Envoy, with what the call left on the loop.
    uv_loop_t* uv_loop = loop();
    uv_update_time(uv_loop);
    waker_->rearm(uv_backend_timeout(uv_loop));
  }
  // V8's count of memory outside the heap (ArrayBuffer backing stores among it): a read.
  if (broken_ == Broken::No &&
      setup_->isolate()->AdjustAmountOfExternalAllocatedMemory(0) >
          static_cast<int64_t>(NodeProcess::externalMemoryLimitBytes())) {
    broken_ = Broken::ExternalMemory;
  }
  if (broken_ != Broken::No && !retired_) {
    retire();
  }
}

void Environment::retire() {
  retired_ = true;
  log(LogLevel::Error,
      std::string("a Node.js environment ") +
          (role_ == Role::Worker ? "of a worker" : "of the main thread") + " broke: " +
          describe(broken_) + ". Its streams get the failure policy" +
          (role_ == Role::Worker ? "; the worker takes a prepared environment for new streams" : ""));
  if (client_ != nullptr) {
    client_->onBroken();
  }
  if (role_ != Role::Worker || current_ != this) {
    return;
  }
  // Off this thread until it is destroyed: the next stream attaches another environment.
  detachFromCurrentThread();
  current_ = nullptr;
  worker_owner_.retired.push_back(std::move(worker_owner_.env));
}

void Environment::destroyRetired() {
  auto& retired = worker_owner_.retired;
  for (auto it = retired.begin(); it != retired.end();) {
    if ((*it)->client_ != nullptr && (*it)->client_->holdsStreams()) {
      ++it;
    } else {
      it = retired.erase(it);  // the destructor attaches it to this thread to tear it down
    }
  }
}

void Environment::discardMainThread() {
  if (current_ != nullptr && current_->role_ == Role::MainThread) {
    Environment* env = current_;
    current_ = nullptr;
    delete env;
  }
}

Environment* Environment::current() { return current_; }

void Environment::setCurrent(std::unique_ptr<Environment> env) {
  current_ = env.get();
  if (env->role() == Role::Worker) {
    worker_owner_.env = std::move(env);
  } else {
    env.release();  // the main thread's environment lives as long as the process
  }
}

Environment* Environment::beingCreated() { return being_created_; }

}  // namespace envoy_ts::runtime
