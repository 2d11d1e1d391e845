// The C sources under src/deploy/c, embedded at build time (cmake/embed_c.cmake), which the
// exporter copies verbatim into every generated library.
#pragma once
#include <string>
#include <vector>

namespace dkws::deploy {

struct EmbeddedFile {
  const char* name;
  const char* text;
};
const std::vector<EmbeddedFile>& embedded_c_files();

}  // namespace dkws::deploy
