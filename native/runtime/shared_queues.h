// Named queues of byte strings shared by every environment of the process: proxy-wasm's shared
// queues. A queue is named by (vm id, name) and addressed by a token; registering a name again
// opens the same queue.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace envoy_ts::runtime {

class SharedQueues {
 public:
  // The queue's token (never 0), created on first registration.
  static uint32_t registerQueue(const std::string& vm_id, const std::string& name);
  // The token of a registered queue, or 0.
  static uint32_t resolve(const std::string& vm_id, const std::string& name);
  // False when no queue has `token`.
  static bool enqueue(uint32_t token, std::string_view bytes);
  enum class Dequeued { Item, Empty, Unknown };
  static Dequeued dequeue(uint32_t token, std::string& out);
  // Items waiting, or nullopt for an unknown token.
  static std::optional<size_t> length(uint32_t token);
};

}  // namespace envoy_ts::runtime
