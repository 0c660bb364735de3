// The config loader's core: the main file and its includes, the order sections are read in, and
// the collected errors; the public loadFile/loadString/loadControlEndpoint. The sections
// themselves are in load_*.cc (see loader.h).
#include "loader.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "alias_counter.h"
#include "understudy/common/bounded_file.h"
#include "understudy/zone/compile.h"

namespace understudy::config {
namespace detail {

YAML::Node Loader::parse(std::string_view yaml) {
  try {
    std::string text(yaml);
    if (!withinAliasBudget(text)) throw ConfigError(std::move(errors_));
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(Diagnostic{at(e.mark), "", e.msg});
  }
}

Config Loader::load(std::string_view yaml) {
  Config config;
  config.path = file_;
  YAML::Node root = parse(yaml);
  try {
    docs_.push_back(Document{file_, base_dir_, root, canonical(file_), {}});
    std::vector<std::string> stack = {docs_.front().canonical};
    collectIncludes(0, stack);
    loadDocuments(config);
  } catch (const YAML::Exception& e) {
    // Should not happen (we never convert with as<>), but a bug must not escape as a crash.
    error(at(e.mark), "", e.msg);
  }
  if (config.server.listen.empty() && !listen_given_) {
    config.server.listen = {ListenAddress{"127.0.0.1", kDefaultDnsPort, {}},
                            ListenAddress{"::1", kDefaultDnsPort, {}}};
  }
  if (error_count_ > errors_.size()) {
    errors_.push_back(
        Diagnostic{SourceLocation{file_, 0, 0}, "",
                   std::to_string(error_count_ - errors_.size()) + " more errors not shown"});
  }
  if (!errors_.empty()) throw ConfigError(std::move(errors_));
  return config;
}

SourceLocation Loader::at(const YAML::Mark& mark) const {
  if (mark.is_null()) return SourceLocation{file_, 0, 0};
  return SourceLocation{file_, mark.line + 1, mark.column + 1};
}

// Every error is counted; the first kMaxReportedDiagnostics are kept. A mistake repeated a
// million times (a record list shared by aliases, a generated file) is then one page, not a
// million lines and the memory to hold them.
void Loader::error(SourceLocation where, std::string key, std::string message) {
  ++error_count_;
  if (errors_.size() >= kMaxReportedDiagnostics) return;
  errors_.push_back(Diagnostic{std::move(where), std::move(key), std::move(message)});
}

// False, with the error at the alias that went over, when the aliases of `text` and of the
// files read before it stand for more than kMaxAliasNodes nodes. Parse errors are left to
// YAML::Load, which reports the same ones.
bool Loader::withinAliasBudget(const std::string& text) {
  // Without an anchor (&) there is nothing an alias (*) could name.
  if (text.find('&') == std::string::npos || text.find('*') == std::string::npos) return true;
  AliasCounter counter(kMaxAliasNodes - alias_nodes_);
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    parser.HandleNextDocument(counter);
  } catch (const YAML::Exception&) {
    return true;
  }
  if (counter.over()) {
    std::string alias =
        counter.overName().empty() ? "an alias" : "alias '*" + counter.overName() + "'";
    error(at(*counter.over()), "",
          "YAML aliases stand for more than " + std::to_string(kMaxAliasNodes) + " nodes (" +
              alias + " goes over the limit): write the data out, or share less of it");
    return false;
  }
  alias_nodes_ += counter.used();
  return true;
}

std::string Loader::canonical(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : p.string();
}

// Diagnostics and relative paths refer to the document being read.
void Loader::switchTo(const Document& doc) {
  file_ = doc.file;
  base_dir_ = doc.base_dir;
}

// `include: file.yaml` or a list of files (relative to the including file, `*` globs allowed):
// their checks, pools and zones join the main file's, as if written there.
void Loader::collectIncludes(size_t index, std::vector<std::string>& stack) {
  switchTo(docs_[index]);
  const YAML::Node root = docs_[index].root;
  if (!root.IsMap()) return;
  YAML::Node list;
  for (const auto& entry : root) {
    if (entry.first.IsScalar() && entry.first.Scalar() == "include") list = entry.second;
  }
  if (!list || list.IsNull()) return;
  std::vector<YAML::Node> items;
  if (list.IsSequence()) {
    for (size_t i = 0; i < list.size(); ++i) items.push_back(list[i]);
  } else {
    items.push_back(list);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    switchTo(docs_[index]);
    const std::string key = list.IsSequence() ? indexKey("include", i) : std::string("include");
    auto text = scalar(items[i], key);
    if (!text) continue;
    std::filesystem::path pattern(*text);
    if (pattern.is_relative()) pattern = std::filesystem::path(base_dir_) / pattern;
    std::vector<std::string> paths;
    if (text->find_first_of("*?[") != std::string::npos) {
      glob_t g{};
      if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
        for (size_t k = 0; k < g.gl_pathc; ++k) paths.emplace_back(g.gl_pathv[k]);
      }
      globfree(&g);  // no match is fine: an empty conf.d
    } else {
      paths.push_back(pattern.string());
    }
    for (const std::string& path : paths) {
      switchTo(docs_[index]);
      std::string canon = canonical(path);
      if (std::find(stack.begin(), stack.end(), canon) != stack.end()) {
        std::string chain;
        for (const auto& s : stack) chain += s + " -> ";
        error(items[i], key, "include loop: " + chain + canon);
        continue;
      }
      auto seen = std::find_if(docs_.begin(), docs_.end(),
                               [&](const Document& d) { return d.canonical == canon; });
      if (seen != docs_.end()) {
        error(items[i], key, "'" + path + "' is included twice");
        continue;
      }
      std::string problem;
      auto text_read = readBoundedFile(path, file_kind::kInclude, &problem);
      if (!text_read) {
        error(items[i], key, problem);
        continue;
      }
      Document doc{
          path, std::filesystem::path(path).parent_path().string(), YAML::Node(), canon, {}};
      if (doc.base_dir.empty()) doc.base_dir = ".";
      try {
        switchTo(doc);
        if (!withinAliasBudget(*text_read)) continue;
        doc.root = YAML::Load(*text_read);
      } catch (const YAML::Exception& e) {
        switchTo(doc);
        error(at(e.mark), "", e.msg);
        continue;
      }
      docs_.push_back(std::move(doc));
      stack.push_back(canon);
      collectIncludes(docs_.size() - 1, stack);
      stack.pop_back();
    }
  }
}

void Loader::loadDocuments(Config& config) {
  config_ = &config;
  std::vector<bool> usable(docs_.size(), false);
  for (size_t i = 0; i < docs_.size(); ++i) {
    Document& doc = docs_[i];
    switchTo(doc);
    if (!doc.root.IsDefined() || doc.root.IsNull()) continue;  // an empty file is valid
    if (!doc.root.IsMap()) {
      error(doc.root, "", "expected a map at the top level");
      continue;
    }
    if (i == 0) {
      doc.top =
          fields(doc.root, "",
                 {"include", "server", "log", "control", "notify", "checks", "pools", "zones"});
    } else {
      // Settings of the process itself live in one place: the main file.
      doc.top = fields(doc.root, "", {"include", "checks", "pools", "zones"});
    }
    usable[i] = true;
  }
  if (usable[0]) {
    switchTo(docs_[0]);
    if (auto server = docs_[0].top.get("server")) loadServer(*server, config.server);
    if (auto log = docs_[0].top.get("log")) loadLog(*log, config.log);
    if (auto control = docs_[0].top.get("control")) {
      loadControl(*control, config.control, config.warnings);
    }
    if (auto notify = docs_[0].top.get("notify")) loadNotify(*notify, config.notify);
  }
  // Checks before pools before zones, across all files: each refers to the one before by name.
  for (size_t i = 0; i < docs_.size(); ++i) {
    if (!usable[i]) continue;
    switchTo(docs_[i]);
    if (auto checks = docs_[i].top.get("checks")) loadChecks(*checks, config.checks);
  }
  for (size_t i = 0; i < docs_.size(); ++i) {
    if (!usable[i]) continue;
    switchTo(docs_[i]);
    if (auto pools = docs_[i].top.get("pools")) loadPools(*pools, config.pools);
  }
  for (size_t i = 0; i < docs_.size(); ++i) {
    if (!usable[i]) continue;
    switchTo(docs_[i]);
    if (auto zones = docs_[i].top.get("zones")) loadZones(*zones, config.zones);
  }
  // Zone content (a zone defined twice, an owner outside its zone, a type that is never zone
  // data) is zone::compile's to judge. Its checks of single entries run here too, over the zones
  // read so far, so that one `understudy check` still reports them beside the errors above; each
  // names the file, line, column and key it was written at.
  for (Diagnostic& d : zone::checkSources(config.zones)) {
    error(std::move(d.where), std::move(d.key), std::move(d.message));
  }
  switchTo(docs_[0]);
  config_ = nullptr;
}

}  // namespace detail

using detail::Loader;

Config loadString(std::string_view yaml, const std::string& name, const std::string& base_dir) {
  return Loader(name, base_dir).load(yaml);
}

ControlEndpoint loadControlEndpoint(const std::string& path) {
  std::string problem;
  auto text = readBoundedFile(path, file_kind::kConfig, &problem);
  if (!text) throw ConfigError(Diagnostic{{path, 0, 0}, "", problem});
  // The daemon resolves token_file against the file's directory (loadFile's base_dir); an empty
  // one keeps a relative path relative, as ctl always showed it.
  return Loader(path, std::filesystem::path(path).parent_path().string()).controlEndpoint(*text);
}

Config loadFile(const std::string& path) {
  std::string problem;
  auto text = readBoundedFile(path, file_kind::kConfig, &problem);
  if (!text) throw ConfigError(Diagnostic{{path, 0, 0}, "", problem});
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  return loadString(*text, path, base_dir);
}

}  // namespace understudy::config
