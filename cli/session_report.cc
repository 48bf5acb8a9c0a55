#include "cli/session_report.h"

#include <cstdio>
#include <ctime>
#include <vector>

#include "cli/json_output.h"
#include "cli/text_table.h"

namespace hafs::cli {
namespace {

std::string Or(const std::string& text, const char* missing) { return text.empty() ? missing : text; }

// "2026-12-07 14:03:24" in UTC.
std::string UtcTime(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &parts);
  return buffer;
}

}  // namespace

std::string SessionsJson(const wire::Reply& reply) {
  Json sessions = Json::array();
  for (const wire::SessionInfo& session : reply.sessions()) {
    sessions.push_back(Json{{"id", session.session_id()},
                            {"host", session.host()},
                            {"mount_point", session.mount_point()},
                            {"subdir", session.subdir()},
                            {"version", session.version()},
                            {"client", session.client()},
                            {"address", session.address()},
                            {"opened_unix_s", Rounded(session.opened_ms() / 1000.0, 3)},
                            {"renewed_s_ago", Rounded(session.renewed_ms_ago() / 1000.0, 1)}});
  }
  return JsonText(Json{{"sessions", sessions}});
}

std::string SessionsText(const wire::Reply& reply) {
  if (reply.sessions_size() == 0) return "no sessions\n";
  std::vector<std::vector<std::string>> rows = {
      {"ID", "HOST", "MOUNT POINT", "SUBDIR", "VERSION", "CLIENT", "ADDRESS", "OPENED (UTC)", "RENEWED"}};
  for (const wire::SessionInfo& session : reply.sessions()) {
    char renewed[32];
    std::snprintf(renewed, sizeof renewed, "%.1fs ago", session.renewed_ms_ago() / 1000.0);
    rows.push_back({std::to_string(session.session_id()), Or(session.host(), "-"), session.mount_point(),
                    Or(session.subdir(), "/"), Or(session.version(), "-"), Or(session.client(), "-"),
                    Or(session.address(), "-"), UtcTime(session.opened_ms()), renewed});
  }
  return FormatTable(rows);
}

}  // namespace hafs::cli
