// Helpers shared by the data stage (and `dkws data`): hashes, file scanning, parallel loops and
// the feature cache. Not part of the public API.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "dkws/dataset.hpp"

namespace dkws::data {

// RFC 1321 MD5; only used for the Speech Commands bucket rule, so speed does not matter.
std::array<uint8_t, 16> md5(std::string_view bytes);
std::string md5_hex(std::string_view bytes);

// XXH64 (seed 0): the content hash for cache keys and duplicate detection.
uint64_t xxh64(const void* data, size_t bytes, uint64_t seed = 0);
inline uint64_t xxh64(std::string_view s, uint64_t seed = 0) {
  return xxh64(s.data(), s.size(), seed);
}
// Hash of a file's bytes; throws dkws::Error naming the file when it cannot be read.
uint64_t hash_file(const std::filesystem::path& path);

// File extensions dkws treats as audio (lower case, with the dot).
bool is_audio_file(const std::filesystem::path& path);
// True when the name follows "<...>_nohash_<n>", i.e. carries a speaker id.
bool has_speaker(const std::filesystem::path& file);
// Normalises "training"/"validation"/"testing" (and train/val/test) to train/val/test; "" if none.
std::string normalize_split(std::string_view s);

// Runs fn(i) for i in [0, n) over all cores. Output order is the caller's (write to slot i), so
// results do not depend on scheduling. The first exception thrown by fn is rethrown.
void parallel_for(size_t n, const std::function<void(size_t)>& fn);
unsigned worker_count();

// Features for `clips`, computed or read from `cache_file` (empty path: no cache). Clips whose
// audio cannot be read are dropped and named in `problems`; `kept` receives the indices (into
// clips) of the rows returned, in order.
struct ExtractResult {
  std::vector<float> rows;  // kept.size() x dim
  std::vector<size_t> kept;
  size_t computed = 0;
  size_t from_cache = 0;
  std::vector<DataProblem> problems;
};
// A change applied to each clip's audio before its features (augmentation). salt(i) enters clip
// i's cache key; apply(i, key, audio) gets that final key, so its randomness can follow the clip's
// content and settings rather than its position in the list.
struct AudioTransform {
  std::function<uint64_t(size_t)> salt;
  std::function<void(size_t, uint64_t, std::vector<float>&)> apply;
};
ExtractResult extract_features(const std::vector<Clip>& clips, const FrontEndConfig& fe,
                               const std::filesystem::path& cache_file, bool quiet,
                               const AudioTransform* transform = nullptr);

// Layout readers (one file each): append clips (path, label, split, speaker) and problems.
// open_dataset then applies a speaker pattern, checks every clip's header, draws the splits that
// readers left open (see kTrainOrVal) and fills in the class list.
void read_class_folders(const std::filesystem::path& root, DatasetIndex& index);
void read_speech_commands(const std::filesystem::path& root, DatasetIndex& index);
void read_edge_impulse(const std::filesystem::path& root, DatasetIndex& index);

// Clip::split as a reader leaves it for open_dataset to draw by hash once speakers are final: ""
// means train, val or test (60/20/20); kTrainOrVal marks training clips of a layout without a
// validation split, 20% of whose speakers become val.
inline constexpr std::string_view kTrainOrVal = "train_or_val";

// A regular expression for a label or speaker in file names (name_patterns.cpp). Named groups
// "(?<name>...)" and "(?P<name>...)" work although std::regex lacks them.
class NamePattern {
 public:
  // Throws dkws::Error naming `option` and the pattern when it does not compile, or has neither a
  // group named `group` nor exactly one capturing group.
  NamePattern(const std::string& pattern, const std::string& group, const std::string& option);
  // The group's text at the first match in `name`; empty when there is none.
  std::string find(const std::string& name) const;

 private:
  std::regex re_;
  size_t group_ = 0;
};
// Every audio file under root (recursively) with its label from `label` (the "file_names"
// layout, for flat folders such as LABEL_SPEAKER_N.wav); names it does not match are problems.
void read_file_names(const std::filesystem::path& root, const NamePattern& label,
                     DatasetIndex& index);

// Delimited text (delimited.cpp): the delimiter of a header line (tab, else ',' or ';', whichever
// occurs more), and one line's fields with RFC 4180 quotes; false for an unterminated quote.
char detect_delimiter(std::string_view header);
bool split_delimited(std::string_view line, char delimiter, std::vector<std::string>& fields);

// Manifests (manifest.cpp). read_manifest appends the rows of a CSV/TSV manifest; `file_split`
// is the split of rows without a split column (or ""). Throws dkws::Error naming the file when
// its first line names no path and label columns.
struct ManifestFormat {
  char delimiter = ',';
  bool has_split_column = false;
};
ManifestFormat read_manifest(const std::filesystem::path& file, const std::string& file_split,
                             DatasetIndex& index);
// True when the file's first line reads as a manifest header (or a headerless split TSV row).
bool is_manifest(const std::filesystem::path& file);
// The per-split manifests in a folder (train.csv, validation_list.tsv, ...) with their splits.
std::vector<std::pair<std::filesystem::path, std::string>> split_manifests_in(
    const std::filesystem::path& root);
void read_split_manifests(const std::vector<std::pair<std::filesystem::path, std::string>>& files,
                          DatasetIndex& index);

// open_dataset with the per-clip header check optional: load_task skips it because extraction
// decodes every uncached clip anyway (and reports failures), and probing thousands of files would
// cost more than a warm load's whole cache read.
DatasetIndex scan_dataset(const std::filesystem::path& root, bool check_audio,
                          const ImportOptions& options = {});
// The clip's speaker for Clip::speaker: empty when the name carries none.
std::string clip_speaker(const std::filesystem::path& file);

// A task's clips before feature extraction: labels index into classes.
struct TaskClips {
  std::vector<std::string> classes;
  std::vector<Clip> clips;
  std::vector<int> labels;
  std::vector<DataProblem> problems;
  std::vector<std::string> notes;  // how the task was assembled, for the load report
};
// kw3 from the Speech Commands index: yes / unknown (class-balanced sample of every other word) /
// noise (_silence_ plus crops of the recordings in noise_dir, split by time). Deterministic in
// seed.
TaskClips kw3_clips(const DatasetIndex& speech_commands, const std::filesystem::path& noise_dir,
                    uint64_t seed, double crop_seconds);

// spec.augment.variants augmented copies of `clips` as feature rows, variant-major (row
// v * clips.size() + i). Each copy is deterministic in the clip's content, the settings, the seed
// and the variant number, and cached beside the clean features. Throws dkws::Error if a clip fails
// (the clean pass has already dropped unreadable ones).
std::vector<float> augmented_rows(const std::vector<Clip>& clips, const TaskSpec& spec,
                                  const std::filesystem::path& cache_file);

// Runs argv[0] (looked up on PATH) with the arguments as given, no shell; stdin is /dev/null.
// Throws dkws::Error naming the program when it cannot be started (e.g. not installed).
struct ProgramResult {
  int exit_code = 0;
  std::string output;  // stdout and stderr together
};
ProgramResult run_program(const std::vector<std::string>& argv);

// The rows of the synthetic dataset spec.augment.synthetic, every clip whatever its split,
// labelled with the task's `classes` (AugmentSpec::synthetic gives the mapping); its class counts
// and left-out classes go to `notes`. Throws when no synthetic class maps to a task class.
FeatureSet synthetic_rows(const TaskSpec& spec, const std::vector<std::string>& classes,
                          std::vector<std::string>& notes);

// The cache file for a task and front end under cache_dir.
std::filesystem::path cache_file_for(const std::filesystem::path& cache_dir,
                                     const std::string& task, const std::filesystem::path& data_dir,
                                     const FrontEndConfig& fe);

}  // namespace dkws::data
