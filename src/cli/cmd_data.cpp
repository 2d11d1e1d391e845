// Placeholder registration until the subcommand lands.
#include "cli/commands.hpp"

namespace dkws::cli {
void register_data(CLI::App& app) { app.add_subcommand("data", "(not built yet)"); }
}  // namespace dkws::cli
