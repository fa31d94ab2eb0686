// Calling into the runtime (Bridge's call machinery): plain V8 calls into the Dispatcher's
// functions, what a call leaves queued run on the way out of the outermost one, and recovery when
// the CPU watchdog stopped the JavaScript that ran.
#include <cstring>
#include <string>

#include "native/bridge/bridge.h"
#include "native/runtime/log.h"

namespace envoy_ts::bridge {

using runtime::LogLevel;

namespace {

// Calls into the runtime that throw in a row before the environment counts as broken (the
// runtime catches what filters throw: a throw out of it means its own state is wrong).
constexpr int kFailuresToBreak = 10;

// How many times what an outermost call queued may be stopped and recovered from before it
// returns (each a runaway microtask or nextTick callback of its own).
constexpr int kMaxRecoveries = 4;
// How many times a recovery may itself be stopped and recovered from in turn (a filter hook it ran
// for a chain whose policy is "open" ran away too) before the stream is failed closed.
constexpr int kMaxStopsInRecovery = 4;

// Node's tick info fields (the order of Environment::TickInfo::Fields in Node's src/env.h).
constexpr size_t kHasTickScheduled = 0;
constexpr size_t kHasRejectionToWarn = 1;

constexpr size_t kMaxArgs = 6;

// Node-API values are V8 handles of the current handle scope (as Node's own conversion has it).
v8::Local<v8::Value> toV8(napi_value value) {
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(value));
  std::memcpy(static_cast<void*>(&local), &value, sizeof(value));
  return local;
}

napi_value toNapi(v8::Local<v8::Value> value) { return reinterpret_cast<napi_value>(*value); }

// The stack (else the text) of what a TryCatch caught.
std::string caughtText(v8::Isolate* isolate, v8::Local<v8::Context> context,
                       const v8::TryCatch& try_catch) {
  v8::Local<v8::Value> error = try_catch.Exception();
  if (error.IsEmpty()) {
    return "unknown error";
  }
  v8::Local<v8::Value> stack;
  if (error->IsObject() &&
      error.As<v8::Object>()
          ->Get(context, v8::String::NewFromUtf8Literal(isolate, "stack"))
          .ToLocal(&stack) &&
      stack->IsString()) {
    error = stack;
  }
  v8::Local<v8::String> text;
  if (!error->ToString(context).ToLocal(&text)) {
    return "unprintable error";
  }
  v8::String::Utf8Value utf8(isolate, text);
  return *utf8 == nullptr ? "unprintable error" : std::string(*utf8, utf8.length());
}

}  // namespace

void Bridge::setDispatcher(Napi::Object dispatcher) {
  v8::Local<v8::Value> object = toV8(dispatcher);
  v8::Local<v8::Context> context = isolate_->GetCurrentContext();
  entries_.set(isolate_, context, object.As<v8::Object>());
  microtasks_ = context->GetMicrotaskQueue();
}

Bridge::CallResult Bridge::callDispatcher(Entry entry, size_t argc, const napi_value* argv,
                                          napi_value* result, StreamRef ref) {
  v8::Local<v8::Value> args[kMaxArgs];
  for (size_t i = 0; i < argc && i < kMaxArgs; ++i) {
    args[i] = toV8(argv[i]);
  }
  v8::Local<v8::Value> value;
  CallResult outcome = call(entry, static_cast<int>(argc), args, value, ref);
  *result = value.IsEmpty() ? nullptr : toNapi(value);
  return outcome;
}

Bridge::CallResult Bridge::invoke(Entry entry, int argc, v8::Local<v8::Value>* argv,
                                  v8::Local<v8::Value>& result, StreamRef ref) {
  if (!entries_.has(entry)) {
    runtime::log(LogLevel::Error,
                 std::string("the runtime registered no dispatcher.") + RuntimeEntries::name(entry));
    return CallResult::Failed;
  }
  if (!jsUsable()) {
    return CallResult::Failed;
  }
  v8::Local<v8::Context> context = isolate_->GetCurrentContext();
  v8::TryCatch try_catch(isolate_);
  if (entries_.call(isolate_, context, entry, argc, argv).ToLocal(&result)) {
    consecutive_failures_ = 0;
    return CallResult::Ok;
  }
  if (!jsUsable()) {
    return CallResult::Failed;  // stopped because the environment broke: nothing to recover
  }
  if (owner_.watched().overrunPending()) {
    // A nested call returns into JavaScript that is still being stopped; the outermost call
    // recovers once all of it has unwound.
    return callDepth() <= 1 ? recoverFromOverrun(ref, result) : CallResult::Failed;
  }
  runtime::log(LogLevel::Error, std::string("runtime dispatcher.") + RuntimeEntries::name(entry) +
                                    " failed: " + caughtText(isolate_, context, try_catch));
  if (++consecutive_failures_ >= kFailuresToBreak && !isMainThread()) {
    owner_.markBroken(runtime::Environment::Broken::RuntimeFailing);
  }
  return CallResult::Failed;
}

Bridge::CallResult Bridge::finish(CallResult call, v8::Local<v8::Value>& result, StreamRef ref) {
  for (int recoveries = 0; call != CallResult::Failed && callDepth() <= 1 && jsUsable();
       ++recoveries) {
    // Exceptions of microtasks go to Node's message listener (uncaught exceptions), as they do in
    // Node's own callback scope.
    microtasks_->PerformCheckpoint(isolate_);
    if (!owner_.watched().overrunPending() &&
        (!tick_info_.adopted() || tick_info_[kHasTickScheduled] != 0 ||
         tick_info_[kHasRejectionToWarn] != 0)) {
      v8::Local<v8::Context> context = isolate_->GetCurrentContext();
      v8::TryCatch try_catch(isolate_);
      v8::Local<v8::Value> ignored;
      if (!entries_.call(isolate_, context, Entry::DrainTicks, 0, nullptr).ToLocal(&ignored) &&
          jsUsable() && !owner_.watched().overrunPending()) {
        runtime::log(LogLevel::Error, "runtime dispatcher.drainTicks failed: " +
                                          caughtText(isolate_, context, try_catch));
      }
    }
    if (!owner_.watched().overrunPending() || !jsUsable()) {
      return call;
    }
    // Stopped on its way out: what the call answered stands.
    call = recoverFromOverrun(ref, result, result);
    if (recoveries == kMaxRecoveries) {
      return call;  // what the last recovery queued runs after the next call
    }
  }
  return call;
}

Bridge::CallResult Bridge::recoverFromOverrun(StreamRef ref, v8::Local<v8::Value>& result,
                                              v8::Local<v8::Value> returned) {
  runtime::BudgetOverrun overrun = owner_.watched().takeOverrun();
  owner_.cancelTermination();
  if (!entries_.has(Entry::OnBudgetExceeded)) {
    return CallResult::Failed;
  }
  for (int attempt = 1;; ++attempt) {
    // The recovery is a section of its own (the runtime gives it its budget): neither the stopped
    // section's clock nor an interrupt the watchdog already asked for it stops the recovery.
    owner_.watched().restart();
    std::string error;
    const bool recovered = recoverWithRuntime(overrun, ref, result, returned, error);
    // What runs next (what the stopped call queued) is not the recovery: the default budget.
    owner_.watched().restart();
    if (recovered) {
      return CallResult::Stopped;
    }
    std::string why;
    if (jsUsable() && owner_.watched().overrunPending()) {
      // Stopped in turn. Most often a filter hook the recovery ran (the rest of a chain whose
      // policy is "open") ran past its own budget: the runtime recovers from that one. Its own
      // recovery code running past the recovery's budget is tried again the same way: the bound
      // ends both.
      runtime::BudgetOverrun next = owner_.watched().takeOverrun();
      owner_.cancelTermination();
      if (attempt < kMaxStopsInRecovery) {
        overrun = std::move(next);
        returned = v8::Local<v8::Value>();
        continue;
      }
      why = "it ran past its CPU budget of " + std::to_string(next.budget_ms) +
            " ms and was stopped too, " + std::to_string(attempt) + " times" + next.stack;
    } else {
      why = error;
    }
    runtime::log(LogLevel::Error, "JavaScript ran past its CPU budget of " +
                                      std::to_string(overrun.budget_ms) + " ms and was stopped" +
                                      overrun.stack + "\nthe runtime could not recover: " + why);
    return CallResult::Failed;
  }
}

bool Bridge::recoverWithRuntime(const runtime::BudgetOverrun& overrun, StreamRef ref,
                                v8::Local<v8::Value>& result, v8::Local<v8::Value> returned,
                                std::string& error) {
  v8::Local<v8::Context> context = isolate_->GetCurrentContext();
  v8::Local<v8::Value> args[5] = {
      v8::Integer::NewFromUnsigned(isolate_, ref.slot),
      v8::Integer::NewFromUnsigned(isolate_, ref.gen),
      v8::Integer::NewFromUnsigned(isolate_, overrun.budget_ms),
      v8::String::NewFromUtf8(isolate_, overrun.stack.data(), v8::NewStringType::kNormal,
                              static_cast<int>(overrun.stack.size()))
          .FromMaybe(v8::String::Empty(isolate_)),
      returned.IsEmpty() ? v8::Undefined(isolate_).As<v8::Value>() : returned};
  v8::TryCatch try_catch(isolate_);
  if (entries_.call(isolate_, context, Entry::OnBudgetExceeded, 5, args).ToLocal(&result)) {
    return true;
  }
  error = caughtText(isolate_, context, try_catch);
  return false;
}

HookOutcome Bridge::toOutcome(CallResult call, v8::Local<v8::Value> result) {
  if (call == CallResult::Failed) {
    return HookOutcome::Failed;
  }
  if (result.IsEmpty() || !result->IsUint32() || result.As<v8::Uint32>()->Value() > 2) {
    runtime::log(LogLevel::Error, "the runtime returned an invalid hook outcome");
    return HookOutcome::Failed;
  }
  return static_cast<HookOutcome>(result.As<v8::Uint32>()->Value());
}

}  // namespace envoy_ts::bridge
