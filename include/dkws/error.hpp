// The one error type dkws throws for user-facing problems. Its message is a single line that names
// the file, key or value at fault; the CLI prints it and exits non-zero.
#pragma once
#include <stdexcept>
#include <string>

namespace dkws {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace dkws
