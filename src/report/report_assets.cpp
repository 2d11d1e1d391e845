#include "report/report_assets.hpp"

#include <fmt/core.h>

#include "dkws/error.hpp"

namespace dkws {

const char* report_asset(std::string_view name) {
  for (const EmbeddedFile& f : report_assets())
    if (name == f.name) return f.text;
  throw Error(fmt::format("report: no embedded asset '{}'", name));
}

}  // namespace dkws
