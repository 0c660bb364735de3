#pragma once

#include <cstddef>
#include <cstdint>

namespace understudy::server {

// Why accept(2) failed on a DNS TCP listener, as counted in /metrics. Out of descriptors (per
// process or system-wide) and out of kernel memory pause accepting instead of spinning on it.
enum class AcceptError : uint8_t { kEmfile, kEnfile, kNoMemory, kOther };
inline constexpr size_t kAcceptErrorKinds = 4;
// "emfile", "enfile", "nomem", "other"
const char* acceptErrorName(AcceptError kind) noexcept;

}  // namespace understudy::server
