#include "socket_error.h"

#include <cctype>
#include <cerrno>
#include <system_error>

namespace understudy::health {

std::string socketErrorDetail(int error_number) {
  switch (error_number) {
    case ECONNREFUSED:
      return "connection refused";
    case ECONNRESET:
      return "connection reset";
    case ECONNABORTED:
      return "connection aborted";
    case EPIPE:
      return "connection closed by peer";
    case ENETUNREACH:
      return "network unreachable";
    case EHOSTUNREACH:
      return "host unreachable";
    case ETIMEDOUT:
      return "connect timed out";
    case EADDRNOTAVAIL:
      return "address not available";
    default:
      break;
  }
  // The C library's wording (thread-safe, unlike strerror), lower-cased to match the phrases above.
  std::string text = std::generic_category().message(error_number);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

bool isLocalResourceError(int error_number) {
  switch (error_number) {
    case EMFILE:         // this process is out of descriptors
    case ENFILE:         // the system is
    case ENOBUFS:        // no buffer space
    case ENOMEM:         // no memory
    case EAGAIN:         // connect(): no free local port (or routing cache entry)
    case EADDRNOTAVAIL:  // connect(): every ephemeral port in use
      return true;
    default:
      return false;
  }
}

}  // namespace understudy::health
