#include "dynamic_module.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "logger.h"

namespace EnvoyTsHost {
namespace {

// Envoy's search order: $ENVOY_DYNAMIC_MODULES_SEARCH_PATH, then the working directory, then the
// standard dlopen search path.
std::string modulePath(const std::string& name) {
  const std::string file = "lib" + name + ".so";
  const char* search_path = std::getenv("ENVOY_DYNAMIC_MODULES_SEARCH_PATH");
  if (search_path != nullptr && *search_path != '\0') {
    const std::string candidate = std::string(search_path) + "/" + file;
    if (access(candidate.c_str(), F_OK) == 0) {
      return candidate;
    }
  }
  const std::string local = "./" + file;
  if (access(local.c_str(), F_OK) == 0) {
    return local;
  }
  return file;
}

} // namespace

DynamicModule::~DynamicModule() { dlclose(handle_); }

DynamicModuleSharedPtr DynamicModule::load(const std::string& name, bool do_not_close,
                                           bool load_globally, std::string& error) {
  const std::string path = modulePath(name);
  // An already resident module is reused without running program_init again.
  void* handle = dlopen(path.c_str(), RTLD_NOLOAD | RTLD_LAZY);
  if (handle != nullptr) {
    HOST_LOG(Debug, "dynamic module " + path + " is already loaded");
    return DynamicModuleSharedPtr(new DynamicModule(handle, path));
  }
  int flags = RTLD_NOW | (load_globally ? RTLD_GLOBAL : RTLD_LOCAL);
  if (do_not_close) {
    flags |= RTLD_NODELETE;
  }
  handle = dlopen(path.c_str(), flags);
  if (handle == nullptr) {
    error = "Failed to load dynamic module: " + std::string(dlerror());
    return nullptr;
  }
  DynamicModuleSharedPtr module(new DynamicModule(handle, path));
  using ProgramInit = decltype(&envoy_dynamic_module_on_program_init);
  auto init = reinterpret_cast<ProgramInit>(dlsym(handle, "envoy_dynamic_module_on_program_init"));
  if (init == nullptr) {
    error = "Failed to resolve symbol envoy_dynamic_module_on_program_init in " + path;
    return nullptr;
  }
  const char* version = init();
  if (version == nullptr) {
    error = "Failed to initialize dynamic module: " + path;
    return nullptr;
  }
  if (std::strcmp(version, ENVOY_TS_TARGET_ABI_VERSION) != 0) {
    Logger::log(LogLevel::Warn, "dynamic_modules",
                "Dynamic module " + path + " ABI version " + version + " differs from " +
                    ENVOY_TS_TARGET_ABI_VERSION);
  } else {
    Logger::log(LogLevel::Info, "dynamic_modules",
                "Dynamic module " + path + " loaded, ABI version " + version);
  }
  return module;
}

bool DynamicModule::resolveHttpFilterHooks(HttpFilterHooks& hooks, std::string& error) const {
  bool ok = true;
  auto resolve = [&](auto& slot, const char* symbol) {
    void* address = ok ? dlsym(handle_, symbol) : nullptr;
    if (ok && address == nullptr) {
      error = "Failed to resolve symbol " + std::string(symbol) + " in " + path_;
      ok = false;
    }
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(address);
  };
  void* unused = nullptr;
#define HOST_RESOLVE(SLOT, HOOK) resolve(SLOT, "envoy_dynamic_module_on_http_filter_" HOOK)
  HOST_RESOLVE(hooks.config_new, "config_new");
  HOST_RESOLVE(hooks.config_destroy, "config_destroy");
  HOST_RESOLVE(hooks.filter_new, "new");
  HOST_RESOLVE(hooks.request_headers, "request_headers");
  HOST_RESOLVE(hooks.request_body, "request_body");
  HOST_RESOLVE(hooks.request_trailers, "request_trailers");
  HOST_RESOLVE(hooks.response_headers, "response_headers");
  HOST_RESOLVE(hooks.response_body, "response_body");
  HOST_RESOLVE(hooks.response_trailers, "response_trailers");
  HOST_RESOLVE(hooks.stream_complete, "stream_complete");
  HOST_RESOLVE(hooks.destroy, "destroy");
  HOST_RESOLVE(hooks.http_callout_done, "http_callout_done");
  HOST_RESOLVE(hooks.http_stream_headers, "http_stream_headers");
  HOST_RESOLVE(hooks.http_stream_data, "http_stream_data");
  HOST_RESOLVE(hooks.http_stream_trailers, "http_stream_trailers");
  HOST_RESOLVE(hooks.http_stream_complete, "http_stream_complete");
  HOST_RESOLVE(hooks.http_stream_reset, "http_stream_reset");
  HOST_RESOLVE(hooks.scheduled, "scheduled");
  HOST_RESOLVE(unused, "downstream_above_write_buffer_high_watermark");
  HOST_RESOLVE(unused, "downstream_below_write_buffer_low_watermark");
#undef HOST_RESOLVE
  return ok;
}

bool DynamicModule::resolveHttpPerRouteConfigHooks(HttpPerRouteConfigHooks& hooks,
                                                   std::string& error) const {
  hooks.config_new = reinterpret_cast<decltype(hooks.config_new)>(
      dlsym(handle_, "envoy_dynamic_module_on_http_filter_per_route_config_new"));
  if (hooks.config_new == nullptr) {
    error = "Failed to resolve symbol envoy_dynamic_module_on_http_filter_per_route_config_new in " +
            path_;
    return false;
  }
  hooks.config_destroy = reinterpret_cast<decltype(hooks.config_destroy)>(
      dlsym(handle_, "envoy_dynamic_module_on_http_filter_per_route_config_destroy"));
  if (hooks.config_destroy == nullptr) {
    error = "Failed to resolve symbol envoy_dynamic_module_on_http_filter_per_route_config_destroy "
            "in " +
            path_;
    return false;
  }
  return true;
}

bool DynamicModule::resolveNetworkFilterHooks(NetworkFilterHooks& hooks, std::string& error) const {
  bool ok = true;
  auto resolve = [&](auto& slot, const char* symbol, bool required) {
    void* address = ok ? dlsym(handle_, symbol) : nullptr;
    if (ok && required && address == nullptr) {
      error = "Failed to resolve symbol " + std::string(symbol) + " in " + path_;
      ok = false;
    }
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(address);
  };
#define HOST_RESOLVE(SLOT, HOOK, REQUIRED)                                                         \
  resolve(SLOT, "envoy_dynamic_module_on_network_filter_" HOOK, REQUIRED)
  HOST_RESOLVE(hooks.config_new, "config_new", true);
  HOST_RESOLVE(hooks.config_destroy, "config_destroy", true);
  HOST_RESOLVE(hooks.filter_new, "new", true);
  HOST_RESOLVE(hooks.new_connection, "new_connection", true);
  HOST_RESOLVE(hooks.read, "read", true);
  HOST_RESOLVE(hooks.write, "write", true);
  HOST_RESOLVE(hooks.event, "event", true);
  HOST_RESOLVE(hooks.destroy, "destroy", true);
  HOST_RESOLVE(hooks.scheduled, "scheduled", false);
  HOST_RESOLVE(hooks.config_scheduled, "config_scheduled", false);
  HOST_RESOLVE(hooks.http_callout_done, "http_callout_done", false);
  HOST_RESOLVE(hooks.above_write_buffer_high_watermark, "above_write_buffer_high_watermark", false);
  HOST_RESOLVE(hooks.below_write_buffer_low_watermark, "below_write_buffer_low_watermark", false);
#undef HOST_RESOLVE
  return ok;
}

} // namespace EnvoyTsHost
