// The report page's script and style sheet, src/report/assets/, embedded at build time
// (cmake/embed_files.cmake) so the page stays one self-contained file.
#pragma once
#include <string_view>
#include <vector>

#include "dkws/util.hpp"

namespace dkws {

const std::vector<EmbeddedFile>& report_assets();
// The text of one asset by file name; throws dkws::Error when the build embedded none of that name.
const char* report_asset(std::string_view name);

}  // namespace dkws
