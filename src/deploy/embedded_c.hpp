// The C sources under src/deploy/c, embedded at build time (cmake/embed_files.cmake), which the
// exporter copies verbatim into every generated library.
#pragma once
#include <vector>

#include "dkws/util.hpp"

namespace dkws::deploy {

const std::vector<EmbeddedFile>& embedded_c_files();

}  // namespace dkws::deploy
