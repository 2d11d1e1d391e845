// Placeholder registration until the subcommand lands.
#include "cli/commands.hpp"

namespace dkws::cli {
void register_features(CLI::App& app) { app.add_subcommand("features", "(not built yet)"); }
}  // namespace dkws::cli
