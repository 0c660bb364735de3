// DNSSEC key files: generation (ldns on OpenSSL), reading and checking, DS computation.
#include "understudy/dnssec/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <string_view>
#include <system_error>

// ldns/common.h defines bool, true and false as macros unless <stdbool.h> came first.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <ldns/ldns.h>

#include "understudy/common/bounded_file.h"
#include "understudy/common/new_file.h"
#include "understudy/dns/name.h"

namespace understudy::dnssec {

namespace {

// A .key file is one DNSKEY and comments, a .private file a handful of lines: 64 KiB is plenty.
constexpr FileKind kKeyFile{"key file", "key files", uint64_t{64} << 10};

struct RrFree {
  void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
};
using RrPtr = std::unique_ptr<ldns_rr, RrFree>;
struct KeyFree {
  void operator()(ldns_key* k) const { ldns_key_deep_free(k); }
};
using KeyPtr = std::unique_ptr<ldns_key, KeyFree>;

std::string takeString(char* s) {
  std::string out = s ? s : "";
  std::free(s);
  return out;
}

// One line, no comment, no trailing newline.
std::string rrText(const ldns_rr* rr) {
  std::string s = takeString(ldns_rr2str_fmt(ldns_output_format_nocomments, rr));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string lowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(dns::lowerByte(static_cast<uint8_t>(c)));
  return s;
}

// "example.com" or "example.com." -> "example.com." (lowercase). Throws KeyError.
std::string zoneText(const std::string& zone) {
  std::string error;
  const std::string_view root("\0", 1);
  auto wire = dns::nameFromText(zone, root, &error);
  if (!wire) {
    std::string msg = "invalid zone name '";
    msg.append(zone).append("': ").append(error);
    throw KeyError(msg);
  }
  std::string text = lowerAscii(dns::nameToText(*wire));
  if (text.find('/') != std::string::npos || text.find('\\') != std::string::npos) {
    std::string msg = "zone name '";
    msg.append(zone).append("' cannot be part of a key file name ('/' or an escape in it)");
    throw KeyError(msg);
  }
  return text;
}

std::string threeDigits(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03u", v);
  return buf;
}

std::string fiveDigits(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%05u", v);
  return buf;
}

// Kexample.com.+013+12345
std::string keyBaseName(const std::string& zone_text, uint8_t algorithm, uint16_t tag) {
  std::string s = "K";
  s.append(zone_text)
      .append("+")
      .append(threeDigits(algorithm))
      .append("+")
      .append(fiveDigits(tag));
  return s;
}

std::string joinPath(const std::string& dir, const std::string& name) {
  std::string p = dir;
  if (!p.empty() && p.back() != '/') p += '/';
  p += name;
  return p;
}

std::string errnoText(int err) {
  return std::strerror(err);
}

// Creates `path` with `mode` (never over an existing file) and writes `content`. "" on success,
// else the sentence.
std::string writeKeyFile(const std::string& path, const std::string& content, mode_t mode) {
  int err = 0;
  std::string msg;
  switch (writeNewFile(path, content, mode, &err)) {
    case NewFile::kWritten:
      return "";
    case NewFile::kExists:
      msg = "cannot create ";
      msg.append(path).append(": ").append(errnoText(EEXIST));
      msg.append(" (an existing key file is never overwritten)");
      return msg;
    case NewFile::kCannotCreate:
      msg = "cannot create ";
      break;
    case NewFile::kCannotWrite:
      msg = "cannot write ";
      break;
  }
  msg.append(path).append(": ").append(errnoText(err));
  return msg;
}

std::string utcStamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

bool fileExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Reads a key file: its content and the mode of the descriptor read. nullopt and `error`.
std::optional<std::string> readKeyFile(const std::string& path, mode_t* mode, std::string* error) {
  auto f = BoundedFile::open(path, kKeyFile, error);
  if (!f) return std::nullopt;
  if (mode) *mode = f->mode();
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = f->read(buf, sizeof buf, error);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// The one DNSKEY RR of a .key file's text. nullptr and `error` otherwise.
RrPtr parseKeyText(const std::string& text, std::string* error) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == ';') continue;
    ldns_rr* rr = nullptr;
    ldns_status st = ldns_rr_new_frm_str(&rr, line.c_str(), 0, nullptr, nullptr);
    if (st != LDNS_STATUS_OK) {
      *error = "cannot parse the DNSKEY record: ";
      error->append(ldns_get_errorstr_by_id(st));
      return nullptr;
    }
    RrPtr owned(rr);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DNSKEY || ldns_rr_rd_count(rr) != 4) {
      *error = "the record in it is not a DNSKEY";
      return nullptr;
    }
    return owned;
  }
  *error = "no DNSKEY record in it";
  return nullptr;
}

std::string modeText(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

bool supported(uint8_t algorithm) {
  return algorithm == kEcdsaP256Sha256 || algorithm == kEd25519;
}

std::string unsupported(uint8_t algorithm) {
  std::string s = "algorithm ";
  s.append(std::to_string(algorithm));
  std::string name = algorithmName(algorithm);
  if (name != std::to_string(algorithm)) s.append(" (").append(name).append(")");
  s.append(" is not supported: use 13 (ECDSAP256SHA256) or 15 (ED25519)");
  return s;
}

}  // namespace

std::string algorithmName(uint8_t algorithm) {
  switch (algorithm) {
    case 5:
      return "RSASHA1";
    case 7:
      return "NSEC3RSASHA1";
    case 8:
      return "RSASHA256";
    case 10:
      return "RSASHA512";
    case 13:
      return "ECDSAP256SHA256";
    case 14:
      return "ECDSAP384SHA384";
    case 15:
      return "ED25519";
    case 16:
      return "ED448";
    default:
      return std::to_string(algorithm);
  }
}

std::string dsFromDnskey(const std::string& dnskey) {
  std::string error;
  RrPtr rr = parseKeyText(dnskey, &error);
  if (!rr) throw KeyError(error);
  RrPtr ds(ldns_key_rr2ds(rr.get(), LDNS_SHA256));
  if (!ds) throw KeyError("cannot compute the DS record");
  return rrText(ds.get());
}

GeneratedKey generateCsk(const std::string& zone, uint8_t algorithm, const std::string& dir) {
  const std::string zone_text = zoneText(zone);
  if (!supported(algorithm)) throw KeyError(unsupported(algorithm));
  std::error_code ec;
  auto status = std::filesystem::status(dir, ec);
  if (ec || !std::filesystem::exists(status)) {
    std::string msg = "key directory ";
    msg.append(dir).append(": no such directory");
    throw KeyError(msg);
  }
  if (!std::filesystem::is_directory(status)) {
    std::string msg = "key directory ";
    msg.append(dir).append(": not a directory");
    throw KeyError(msg);
  }

  // A new key whose tag names no file already in `dir` (tags collide, rarely).
  for (int attempt = 0; attempt < 8; ++attempt) {
    KeyPtr key(ldns_key_new_frm_algorithm(static_cast<ldns_signing_algorithm>(algorithm), 256));
    if (!key) {
      std::string msg = "cannot generate an ";
      msg.append(algorithmName(algorithm)).append(" key (OpenSSL)");
      throw KeyError(msg);
    }
    ldns_rdf* owner = ldns_dname_new_frm_str(zone_text.c_str());
    if (!owner) throw KeyError("cannot use the zone name");
    ldns_key_set_pubkey_owner(key.get(), owner);
    ldns_key_set_flags(key.get(), kCskFlags);
    RrPtr dnskey(ldns_key2rr(key.get()));
    if (!dnskey) throw KeyError("cannot make the DNSKEY record");
    ldns_rr_set_ttl(dnskey.get(), kKeyFileTtl);
    const uint16_t tag = ldns_calc_keytag(dnskey.get());
    ldns_key_set_keytag(key.get(), tag);

    GeneratedKey out;
    out.tag = tag;
    const std::string base = keyBaseName(zone_text, algorithm, tag);
    out.key_path = joinPath(dir, base + ".key");
    out.private_path = joinPath(dir, base + ".private");
    if (fileExists(out.key_path) || fileExists(out.private_path)) continue;

    out.dnskey = rrText(dnskey.get());
    RrPtr ds(ldns_key_rr2ds(dnskey.get(), LDNS_SHA256));
    if (!ds) throw KeyError("cannot compute the DS record");
    out.ds = rrText(ds.get());

    // ldns writes format v1.2; v1.3 adds BIND's timing metadata, without which BIND's smart
    // signing (dnssec-signzone -S, named's key-directory) does not take the key. ldns reads both.
    std::string private_text = takeString(ldns_key2str(key.get()));
    const std::string_view v12 = "Private-key-format: v1.2\n";
    if (!private_text.starts_with(v12)) throw KeyError("cannot write the private key (ldns)");
    private_text.replace(0, v12.size(), "Private-key-format: v1.3\n");
    const std::string now = utcStamp();
    for (const char* field : {"Created: ", "Publish: ", "Activate: "}) {
      private_text.append(field).append(now).append("\n");
    }
    std::string key_text = "; This is a combined signing key (CSK), keyid ";
    key_text.append(std::to_string(tag)).append(", for ").append(zone_text).append("\n");
    for (const char* field : {"; Created: ", "; Publish: ", "; Activate: "}) {
      key_text.append(field).append(now).append("\n");
    }
    key_text.append(out.dnskey).append("\n");

    // The secret first, never readable by anyone else; the public half only once it exists.
    std::string err = writeKeyFile(out.private_path, private_text, 0600);
    if (!err.empty()) throw KeyError(err);
    err = writeKeyFile(out.key_path, key_text, 0644);
    if (!err.empty()) {
      ::unlink(out.private_path.c_str());
      throw KeyError(err);
    }
    return out;
  }
  std::string msg = "cannot find a key tag not already used in ";
  msg.append(dir);
  throw KeyError(msg);
}

KeySet readKeys(const std::string& zone, const std::string& dir) {
  KeySet out;
  std::string zone_text;
  try {
    zone_text = zoneText(zone);
  } catch (const KeyError& e) {
    out.errors.push_back(e.what());
    return out;
  }
  std::string prefix = "K";
  prefix.append(zone_text).append("+");
  const std::string prefix_lower = lowerAscii(prefix);  // the zone name's case is not the file's

  // base name -> {has .key, has .private}
  std::map<std::string, std::pair<bool, bool>> found;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    std::string msg = "key directory ";
    msg.append(dir).append(": ").append(ec.message());
    out.errors.push_back(msg);
    return out;
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || lowerAscii(name.substr(0, prefix.size())) != prefix_lower) {
      continue;
    }
    if (name.ends_with(".key")) {
      found[name.substr(0, name.size() - 4)].first = true;
    } else if (name.ends_with(".private")) {
      found[name.substr(0, name.size() - 8)].second = true;
    }
  }
  if (ec) {
    std::string msg = "key directory ";
    msg.append(dir).append(": ").append(ec.message());
    out.errors.push_back(msg);
  }

  for (const auto& [base, has] : found) {
    const std::string key_path = joinPath(dir, base + ".key");
    const std::string private_path = joinPath(dir, base + ".private");
    // The tag and algorithm the file name claims: K<zone>.+AAA+TTTTT
    int name_alg = -1;
    int name_tag = -1;
    {
      std::string rest = base.substr(prefix.size());
      unsigned a = 0, t = 0;
      char extra = 0;
      if (std::sscanf(rest.c_str(), "%3u+%5u%c", &a, &t, &extra) == 2 && a < 256 && t < 65536) {
        name_alg = static_cast<int>(a);
        name_tag = static_cast<int>(t);
      }
    }
    auto fail = [&](const std::string& path, int tag, const std::string& why) {
      std::string msg = path;
      if (tag >= 0) msg.append(" (key tag ").append(std::to_string(tag)).append(")");
      msg.append(": ").append(why);
      out.errors.push_back(msg);
    };
    if (name_tag < 0) {
      fail(has.first ? key_path : private_path, -1,
           "not a key file name (K<zone>+<algorithm>+<tag>.key)");
      continue;
    }
    if (!has.first) {
      std::string why = "no public key file ";
      why.append(base).append(".key beside it");
      fail(private_path, name_tag, why);
      continue;
    }
    if (!has.second) {
      std::string why = "no private key file ";
      why.append(base).append(".private beside it");
      fail(key_path, name_tag, why);
      continue;
    }

    std::string error;
    auto key_text = readKeyFile(key_path, nullptr, &error);
    if (!key_text) {
      fail(key_path, name_tag, error);
      continue;
    }
    RrPtr pub = parseKeyText(*key_text, &error);
    if (!pub) {
      fail(key_path, name_tag, error);
      continue;
    }
    const std::string owner = lowerAscii(takeString(ldns_rdf2str(ldns_rr_owner(pub.get()))));
    if (owner != zone_text) {
      std::string why = "the key is for zone ";
      why.append(owner).append(", not ").append(zone_text);
      fail(key_path, name_tag, why);
      continue;
    }
    const uint16_t flags = ldns_rdf2native_int16(ldns_rr_rdf(pub.get(), 0));
    const uint8_t algorithm = ldns_rdf2native_int8(ldns_rr_rdf(pub.get(), 2));
    const uint16_t tag = ldns_calc_keytag(pub.get());
    if (!supported(algorithm)) {
      fail(key_path, tag, unsupported(algorithm));
      continue;
    }
    if (tag != name_tag || algorithm != name_alg) {
      std::string why = "the file name says algorithm ";
      why.append(std::to_string(name_alg)).append(" and key tag ").append(std::to_string(name_tag));
      why.append(", the key in it is algorithm ").append(std::to_string(algorithm));
      why.append(" with key tag ").append(std::to_string(tag));
      fail(key_path, tag, why);
      continue;
    }
    if (!(flags & 0x0100)) {
      fail(key_path, tag, "not a zone key (the DNSKEY's Zone Key flag, 256, is not set)");
      continue;
    }

    mode_t mode = 0;
    auto private_text = readKeyFile(private_path, &mode, &error);
    if (!private_text) {
      fail(private_path, tag, error);
      continue;
    }
    if (mode & 077) {
      std::string why = "mode ";
      why.append(modeText(mode)).append(": must not be ");
      why.append((mode & 044) ? "readable" : "writable or executable");
      why.append(" by group or others (chmod 600)");
      fail(private_path, tag, why);
      continue;
    }
    FILE* fp = fmemopen(private_text->data(), private_text->size(), "r");
    if (!fp) {
      fail(private_path, tag, errnoText(errno));
      continue;
    }
    ldns_key* raw = nullptr;
    ldns_status st = ldns_key_new_frm_fp(&raw, fp);
    std::fclose(fp);
    KeyPtr priv(raw);
    if (st != LDNS_STATUS_OK || !priv) {
      std::string why = "cannot read the private key: ";
      why.append(ldns_get_errorstr_by_id(st));
      fail(private_path, tag, why);
      continue;
    }
    if (static_cast<uint8_t>(ldns_key_algorithm(priv.get())) != algorithm) {
      std::string why = "the private key is algorithm ";
      why.append(std::to_string(static_cast<int>(ldns_key_algorithm(priv.get()))));
      why.append(", the public key in ").append(base).append(".key is algorithm ");
      why.append(std::to_string(algorithm));
      fail(private_path, tag, why);
      continue;
    }
    ldns_key_set_pubkey_owner(priv.get(), ldns_rdf_clone(ldns_rr_owner(pub.get())));
    ldns_key_set_flags(priv.get(), flags);
    RrPtr derived(ldns_key2rr(priv.get()));
    if (!derived ||
        ldns_rdf_compare(ldns_rr_rdf(derived.get(), 3), ldns_rr_rdf(pub.get(), 3)) != 0) {
      std::string why = "the private key does not match the public key in ";
      why.append(base).append(".key");
      fail(private_path, tag, why);
      continue;
    }
    ldns_key_set_keytag(priv.get(), tag);

    Key k;
    k.key_path = key_path;
    k.private_path = private_path;
    k.tag = tag;
    k.algorithm = algorithm;
    k.flags = flags;
    k.dnskey = rrText(pub.get());
    k.private_key = std::shared_ptr<ldns_struct_key>(priv.release(), KeyFree{});
    out.keys.push_back(std::move(k));
  }
  return out;
}

}  // namespace understudy::dnssec
