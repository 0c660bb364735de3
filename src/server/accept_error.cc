#include "understudy/server/accept_error.h"

namespace understudy::server {

const char* acceptErrorName(AcceptError kind) noexcept {
  switch (kind) {
    case AcceptError::kEmfile:
      return "emfile";
    case AcceptError::kEnfile:
      return "enfile";
    case AcceptError::kNoMemory:
      return "nomem";
    case AcceptError::kOther:
      break;
  }
  return "other";
}

}  // namespace understudy::server
