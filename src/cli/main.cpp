// dkws: the thin command-line front over libdkws. Errors print one line and exit non-zero.
#include <cstdio>
#include <exception>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "dkws/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"dkws: dendritic keyword spotting for microcontrollers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dkws 0.1.0");
  dkws::cli::register_features(app);
  dkws::cli::register_train(app);
  dkws::cli::register_teacher(app);
  dkws::cli::register_data(app);
  dkws::cli::register_report(app);
  dkws::cli::register_listen(app);
  dkws::cli::register_export(app);
  dkws::cli::register_quantize(app);
  dkws::cli::register_eval(app);
  dkws::cli::register_sweep(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const dkws::Error& e) {
    fmt::print(stderr, "dkws: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "dkws: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
