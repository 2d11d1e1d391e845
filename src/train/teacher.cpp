#include "dkws/teacher.hpp"

#include <cstring>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "dkws/error.hpp"
#include "dkws/util.hpp"

namespace dkws {
namespace {

constexpr const char* kFormat = "dkws-teacher-logits";

struct Fnv1a {
  uint64_t h = 0xcbf29ce484222325ull;
  void add(const void* data, size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  }
};

}  // namespace

std::string feature_set_key(const FeatureSet& set) {
  Fnv1a f;
  const uint64_t shape[3] = {uint64_t(set.frames), uint64_t(set.coeffs), uint64_t(set.size())};
  f.add(shape, sizeof shape);
  f.add(set.x.data(), set.x.size() * sizeof(float));
  f.add(set.y.data(), set.y.size() * sizeof(int));
  return fmt::format("{:016x}", f.h);
}

std::vector<float> model_logits(nn::Sequential& net, const FeatureSet& set, int batch_size) {
  std::vector<float> out;
  nn::Tensor x;
  const nn::ForwardContext ctx{false, nullptr};
  for (size_t start = 0; start < set.size(); start += size_t(batch_size)) {
    const int n = int(std::min(set.size() - start, size_t(batch_size)));
    x.resize({n, set.dim()});
    std::copy(set.row(start), set.row(start) + size_t(n) * size_t(set.dim()), x.ptr());
    const nn::Tensor& logits = net.forward(x, ctx);
    out.insert(out.end(), logits.ptr(), logits.ptr() + logits.size());
  }
  return out;
}

void save_teacher_logits(const std::filesystem::path& path, const TeacherLogits& t) {
  const nlohmann::json j = {
      {"format", kFormat},    {"version", 1},
      {"split", "train"},     {"features_key", t.features_key},
      {"classes", t.classes}, {"rows", t.rows()},
      {"members", t.members}, {"logits", base64_encode(t.logits.data(), t.logits.size() * 4)}};
  write_file_atomic(path, j.dump(1) + "\n");
}

TeacherLogits read_teacher_logits(const std::filesystem::path& path) {
  const std::string source = path.string();
  if (!std::filesystem::exists(path))
    throw Error(
        fmt::format("{}: teacher logits file not found (make it with `dkws teacher`)", source));
  TeacherLogits t;
  try {
    const nlohmann::json j = nlohmann::json::parse(read_file(path));
    if (j.at("format") != kFormat)
      throw Error(fmt::format("{}: not a teacher logits file (format is not {})", source, kFormat));
    t.features_key = j.at("features_key");
    t.classes = j.at("classes").get<std::vector<std::string>>();
    t.members = j.at("members").get<std::vector<std::string>>();
    const auto bytes = base64_decode(j.at("logits").get<std::string>());
    const size_t rows = j.at("rows");
    if (t.classes.empty() || bytes.size() != rows * t.classes.size() * sizeof(float))
      throw Error(
          fmt::format("{}: logits hold {} bytes, not rows x classes x 4", source, bytes.size()));
    t.logits.resize(bytes.size() / sizeof(float));
    std::memcpy(t.logits.data(), bytes.data(), bytes.size());
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: unreadable teacher logits ({})", source, e.what()));
  }
  return t;
}

TeacherLogits load_teacher_logits(const std::filesystem::path& path, const FeatureSet& train,
                                  const std::vector<std::string>& classes) {
  TeacherLogits t = read_teacher_logits(path);
  if (t.classes != classes)
    throw Error(fmt::format("{}: the teacher's classes differ from the task's", path.string()));
  const std::string key = feature_set_key(train);
  if (t.features_key != key || t.rows() != train.size())
    throw Error(fmt::format(
        "{}: teacher logits were computed on other training features (key {}, {} rows; this "
        "run's training split: key {}, {} rows); run `dkws teacher` again",
        path.string(), t.features_key, t.rows(), key, train.size()));
  return t;
}

}  // namespace dkws
