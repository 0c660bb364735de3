#include "understudy/zone/serving_options.h"

namespace understudy::zone {

namespace {

// One TXT character-string (RFC 1035 §3.3.14); empty stays empty (not configured).
std::string txtRdata(std::string_view text) {
  if (text.empty()) return {};
  text = text.substr(0, 255);
  std::string out(1, static_cast<char>(text.size()));
  out.append(text);
  return out;
}

}  // namespace

void ServingOptions::setIdentity(std::string_view identity) {
  identity_txt = txtRdata(identity);
  nsid_option.clear();
  if (identity.empty()) return;
  identity = identity.substr(0, 255);
  // RFC 5001 §2.3: OPTION-CODE 3, OPTION-LENGTH, then the identifier's octets.
  nsid_option = {0, 3, static_cast<char>(identity.size() >> 8),
                 static_cast<char>(identity.size() & 0xff)};
  nsid_option.append(identity);
}

void ServingOptions::setVersion(std::string_view version) {
  version_txt = txtRdata(version);
}

}  // namespace understudy::zone
