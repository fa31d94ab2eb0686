#include "native/runtime/shared_queues.h"

#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace envoy_ts::runtime {
namespace {

struct Queues {
  std::mutex mu;
  std::map<std::pair<std::string, std::string>, uint32_t> tokens;  // guarded by mu
  std::unordered_map<uint32_t, std::deque<std::string>> items;     // guarded by mu
  uint32_t next_token = 1;                                         // guarded by mu
};

// Leaked on purpose: workers may use it until the process exits.
Queues& queues() {
  static Queues* instance = new Queues();
  return *instance;
}

}  // namespace

uint32_t SharedQueues::registerQueue(const std::string& vm_id, const std::string& name) {
  Queues& q = queues();
  std::lock_guard<std::mutex> lock(q.mu);
  auto [it, added] = q.tokens.try_emplace({vm_id, name}, q.next_token);
  if (added) {
    q.items[q.next_token];
    ++q.next_token;
  }
  return it->second;
}

uint32_t SharedQueues::resolve(const std::string& vm_id, const std::string& name) {
  Queues& q = queues();
  std::lock_guard<std::mutex> lock(q.mu);
  auto it = q.tokens.find({vm_id, name});
  return it == q.tokens.end() ? 0 : it->second;
}

bool SharedQueues::enqueue(uint32_t token, std::string_view bytes) {
  Queues& q = queues();
  std::lock_guard<std::mutex> lock(q.mu);
  auto it = q.items.find(token);
  if (it == q.items.end()) {
    return false;
  }
  it->second.emplace_back(bytes);
  return true;
}

SharedQueues::Dequeued SharedQueues::dequeue(uint32_t token, std::string& out) {
  Queues& q = queues();
  std::lock_guard<std::mutex> lock(q.mu);
  auto it = q.items.find(token);
  if (it == q.items.end()) {
    return Dequeued::Unknown;
  }
  if (it->second.empty()) {
    return Dequeued::Empty;
  }
  out = std::move(it->second.front());
  it->second.pop_front();
  return Dequeued::Item;
}

std::optional<size_t> SharedQueues::length(uint32_t token) {
  Queues& q = queues();
  std::lock_guard<std::mutex> lock(q.mu);
  auto it = q.items.find(token);
  if (it == q.items.end()) {
    return std::nullopt;
  }
  return it->second.size();
}

}  // namespace envoy_ts::runtime
