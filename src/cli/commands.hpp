// Each subcommand lives in its own file and registers itself on the root app.
#pragma once
#include <CLI/CLI.hpp>

namespace dkws::cli {

void register_features(CLI::App& app);
void register_train(CLI::App& app);
void register_data(CLI::App& app);
void register_report(CLI::App& app);
void register_listen(CLI::App& app);
void register_export(CLI::App& app);
void register_quantize(CLI::App& app);
void register_eval(CLI::App& app);
void register_sweep(CLI::App& app);
void register_teacher(CLI::App& app);

}  // namespace dkws::cli
