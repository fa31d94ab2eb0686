// One embedded Node.js environment: its own isolate, context and libuv loop (DESIGN.md §3).
#pragma once

#include <memory>
#include <string>

#include "native/runtime/cpu_watchdog.h"
#include "native/runtime/loop_waker.h"
#include "native/runtime/offload_wakes.h"
#include "uv.h"
#include "v8.h"

namespace node {
class CommonEnvironmentSetup;
}
typedef struct napi_env__* napi_env;
typedef struct napi_value__* napi_value;

namespace envoy_ts::runtime {

// What the layer above (the bridge) does for an environment's own events. Called on the thread
// the environment is attached to.
class EnvironmentClient {
 public:
  virtual ~EnvironmentClient() = default;
  // JavaScript the loop pump ran was stopped for running past its budget.
  virtual void onBudgetOverrun() = 0;
  // The environment broke (Environment::Broken): it runs no more JavaScript, and every stream it
  // holds must get the failure policy without it.
  virtual void onBroken() = 0;
  // Whether streams or connections still use the environment.
  virtual bool holdsStreams() = 0;
};

// Installs the JS-facing binding (process._linkedBinding('envoy_ts')) in a new environment.
using BindingInitializer = napi_value (*)(napi_env env, napi_value exports);

class Environment : private IdleTurnRunner {
 public:
  enum class Role { MainThread, Worker };

  // Creates an environment on the calling thread, registers the binding and runs the embedded
  // runtime, which registers its dispatcher through the binding. The new environment is attached
  // to the calling thread. Returns null with `error` set on failure.
  static std::unique_ptr<Environment> create(Role role, BindingInitializer binding,
                                             std::string& error);
  // Must run on the thread the environment is attached to.
  ~Environment();

  // An environment is used by one thread at a time: it holds the isolate's lock and has its
  // context entered while attached. Prepared environments are created on a helper thread,
  // detached, then attached to the worker that takes them.
  void attachToCurrentThread();
  void detachFromCurrentThread();

  Role role() const { return role_; }
  napi_env napiEnv() const { return napi_env_; }
  uv_loop_t* loop() const { return loop_; }
  // Null for the main-thread environment, which never has streams waiting.
  LoopWaker* waker() { return waker_.get(); }
  // How this environment's offload pool threads wake its waiting streams as they finish a task
  // (a worker's, outside inspect mode, where the loop may run on the waker thread:
  // offloadPoolWakes()). Outlives the pool threads.
  OffloadWakes& offloadWakes() { return offload_wakes_; }
  bool offloadPoolWakes() const { return role_ == Role::Worker && !attaches_per_call_; }
  // Adds a binding the environment's JavaScript, and that of its Node worker threads (the offload
  // pool's), reach as process._linkedBinding(name); `init` gets `data` (node::AddLinkedBinding).
  using LinkedBindingInit = void (*)(v8::Local<v8::Object> exports, v8::Local<v8::Value> module,
                                     v8::Local<v8::Context> context, void* data);
  void addLinkedBinding(const char* name, LinkedBindingInit init, void* data);

  // Marks a call from Envoy into this environment. Only the outermost call pumps the loop, so
  // re-entrant hooks (a local reply encoded from inside a hook) never run the loop recursively.
  // The outermost call is a budgeted section for the CPU watchdog.
  // In inspect mode a worker environment is attached to its worker only for the outermost call
  // (native/runtime/idle_turns.cc): the scope attaches it on entry and
  // detaches it on return, so the waker thread can serve the inspector in between. Otherwise the
  // environment stays attached and the scope only tests one flag.
  class CallScope {
   public:
    explicit CallScope(Environment& env) : env_(env) { env_.enterCall(); }
    ~CallScope() { env_.leaveCall(); }
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

   private:
    Environment& env_;
  };
  // What CallScope does, for callers that hold no scope object (module::StreamRuntime).
  void enterCall() {
    if (call_depth_++ == 0) {
      clock_reading_ns_ = 0;  // a reading serves the call it was taken in only
      if (attaches_per_call_ && locker_ == nullptr) {
        attachToCurrentThread();
        attached_for_call_ = true;
      }
      watched_.enter();
    }
  }
  void leaveCall() {
    if (--call_depth_ == 0) {
      leaveOutermost();
      // leaveOutermost may have detached it already (a broken environment is retired).
      if (attached_for_call_ && locker_ != nullptr) {
        detachFromCurrentThread();
      }
      attached_for_call_ = false;
    }
  }

  // Whether the environment stays attached to its worker between calls from Envoy (false for a
  // worker environment in inspect mode: CallScope attaches it).
  bool attachedBetweenCalls() const { return !attaches_per_call_; }
  // Whether the calling thread holds the environment now (only its owner may ask).
  bool attached() const { return locker_ != nullptr; }


  // How many calls from Envoy into this environment are on the stack.
  int callDepth() const { return call_depth_; }

  // Runs what is due on the loop without blocking (timers, immediates, I/O completions, promise
  // jobs they queue). A no-op unless called from the outermost CallScope, whose end re-arms the
  // waker (LoopWaker::rearm) with what is left on the loop.
  // Polling for I/O is a syscall, so by default the loop is only polled when a timer or an
  // immediate is due, or the last poll is older than a millisecond; `Poll::Now` always polls
  // (the waker saw the loop's fd readable).
  enum class Poll { IfDue, Now };
  void pump(Poll poll = Poll::IfDue);
  // A reading of the monotonic clock (ns) taken during the current call from Envoy (the built-in
  // hook stats' clock, at a hook's end): the next pump decides what is due by it instead of
  // reading the clock again.
  void noteClockReading(uint64_t now_ns) { clock_reading_ns_ = now_ns; }

  // The CPU watchdog's view of this environment: the slots JS writes budgets to, and what the
  // watchdog stopped.
  CpuWatchdog::Watched& watched() { return watched_; }
  // Ends a termination of the running JavaScript (the watchdog's): JavaScript can run again.
  void cancelTermination();
  // Set once, by the bridge, while create() runs.
  void setClient(EnvironmentClient* client) { client_ = client; }
  EnvironmentClient* client() const { return client_; }

  // Why an environment can run no more JavaScript. Near its heap limit the running JavaScript is
  // stopped and the environment broken; so is one whose memory outside the heap (ArrayBuffers,
  // Buffers) grew past its limit. A broken worker environment is retired: its streams get the
  // failure policy, the worker takes a prepared environment for new streams, and the broken one
  // is destroyed once no stream uses it (destroyRetired).
  enum class Broken { No, HeapExhausted, ExternalMemory, RuntimeFailing };
  Broken broken() const { return broken_; }
  // The layer above found the environment broken (its runtime keeps failing): retired when the
  // outermost call returns.
  void markBroken(Broken why) {
    if (broken_ == Broken::No) {
      broken_ = why;
    }
  }

  // Worker thread: destroys this thread's retired environments no stream uses any more.
  static void destroyRetired();
  // Main thread: the main-thread environment broke while loading a config; it goes (the next
  // config load makes a new one).
  static void discardMainThread();

  // The environment attached to the calling thread, or null.
  static Environment* current();
  // Makes `env` the calling thread's environment. A worker's environment is destroyed when the
  // thread exits; the main thread's lives until the process exits.
  static void setCurrent(std::unique_ptr<Environment> env);

  // Called by the binding initializer while create() runs on this thread.
  static Environment* beingCreated();
  void setNapiEnv(napi_env env) { napi_env_ = env; }

  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

 private:
  Environment(Role role, std::unique_ptr<node::CommonEnvironmentSetup> setup);
  bool start(BindingInitializer binding, std::string& error);
  // The outermost call from Envoy returns: ends the CPU budget's section, re-arms the waker,
  // checks the memory outside the heap, and retires the environment if it broke.
  void leaveOutermost();
  void retire();
  // IdleTurnRunner (inspect mode, waker thread): no stream waits on the loop, and the loop has
  // something due (a message from the inspector, a timer, I/O). Takes the isolate (waiting while
  // the worker is in a call), runs what is due without blocking, and sets the loop's next timeout
  // (uv_backend_timeout). Runs nothing when a stream waits after all (the waker wakes it instead)
  // or the environment broke. idle_turns.cc argues why this is safe.
  Result runIdleTurn(LoopWaker& waker, int& next_timeout_ms) override;
  static size_t nearHeapLimit(void* data, size_t current_limit, size_t initial_limit);

  const Role role_;
  // Inspect mode, worker role: attached only while Envoy calls in (CallScope).
  const bool attaches_per_call_;
  // Outlives the isolate (declared before setup_): an interrupt may still be queued on it.
  CpuWatchdog::Watched watched_;
  // Outlives the isolate too: its pool threads, which use it, end with the Node environment.
  OffloadWakes offload_wakes_;
  EnvironmentClient* client_ = nullptr;
  Broken broken_ = Broken::No;
  bool retired_ = false;
  std::unique_ptr<node::CommonEnvironmentSetup> setup_;
  uv_loop_t* const loop_;  // setup_'s (asked once: every pump reads it)
  std::unique_ptr<v8::Locker> locker_;  // held while attached
  // Open while attached, holding a block of handles: a call's own handle scope then starts inside
  // it instead of allocating a block and freeing it again on the way out. Nothing is created in
  // it but the one handle that takes the block (every call opens its own scope).
  struct RootHandleScope;
  std::unique_ptr<RootHandleScope> root_scope_;
  napi_env napi_env_ = nullptr;
  // One ref'ed handle keeps the loop "alive": an idle loop otherwise reports a zero timeout and
  // the waker would spin.
  uv_async_t keep_alive_{};
  std::unique_ptr<LoopWaker> waker_;
  int call_depth_ = 0;
  bool attached_for_call_ = false;  // the outermost call attached the environment (inspect mode)
  bool pumping_ = false;
  uint64_t last_poll_ms_ = 0;  // uv_now() of the last poll
  uint64_t clock_reading_ns_ = 0;  // noteClockReading's, until the next pump (0: none)
};

}  // namespace envoy_ts::runtime
