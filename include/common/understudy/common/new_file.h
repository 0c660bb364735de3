// Creating a file that must not exist yet (a generated token, a private key): O_EXCL and
// O_NOFOLLOW, so nothing is written over a file or through a link someone put there, created with
// its final mode (0600 for secrets: never readable by others, not even for a moment), and
// removed again when it could not be written whole.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace understudy {

enum class NewFile : uint8_t {
  kWritten,
  kExists,        // something is already at the path: left alone
  kCannotCreate,  // *err says why (errno)
  kCannotWrite,   // created but not written whole (removed again); *err says why
};

NewFile writeNewFile(const std::string& path, std::string_view content, mode_t mode, int* err);

}  // namespace understudy
