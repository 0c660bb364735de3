// Log line formats (`log.format`): text for people and the journal, or one JSON object per line
// for log shippers: {"time":"2024-05-01T12:01:07.123Z","level":"warning","msg":"..."}.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>

namespace understudy::control {

// "text" or "json" (the loader has validated it); applies to every logger.
void setLogFormat(std::string_view format);

// The formatter behind "json", exposed for tests.
std::unique_ptr<spdlog::formatter> jsonLogFormatter();

// Appends `text` as the inside of a JSON string: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, so every line parses whatever a message holds.
void appendJsonEscaped(std::string_view text, std::string& out);

}  // namespace understudy::control
