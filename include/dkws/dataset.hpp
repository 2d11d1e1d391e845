// Datasets: the layouts dkws reads, the kws12 / kw3 tasks, and the cached feature matrices that
// training consumes.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "dkws/config.hpp"
#include "dkws/dsp.hpp"

namespace dkws {

struct Clip {
  std::filesystem::path path;
  std::string label;    // class name as found on disk
  std::string split;    // "train" | "val" | "test"
  std::string speaker;  // empty when the name carries none
  // For clips cut from a longer recording (noise crops): offset and length in seconds; length 0
  // means the whole file.
  double offset_seconds = 0;
  double length_seconds = 0;
};

// One thing wrong with a dataset, for reports that group problems by kind (a folder of 3,000
// 8 kHz clips is one line with a count, not 3,000 lines).
struct DataProblem {
  std::string kind;     // e.g. "unreadable", "sample_rate", "not_audio"; problem_kind_title says
  std::string file;     // the file, folder, manifest line or speaker concerned; may be empty
  std::string message;  // what is wrong
  // "file: message", or the message alone when it names the file already (or there is none).
  std::string line() const;
};
// What a kind of problem means, for the heading of its group.
std::string problem_kind_title(const std::string& kind);
// Problems grouped by kind (kinds in order of first appearance): a heading per kind with its count
// and meaning, then its first `per_kind` entries and how many more there are; per_kind 0 lists
// every entry. Lines carry no trailing newline.
std::vector<std::string> summarize_problems(const std::vector<DataProblem>& problems,
                                            size_t per_kind);

struct DatasetIndex {
  std::filesystem::path root;
  // "class_folders" | "speech_commands" | "split_tsv" | "manifest" | "split_manifests" |
  // "edge_impulse" | "file_names"
  std::string layout;
  std::vector<std::string> classes;
  std::vector<Clip> clips;
  std::vector<DataProblem> problems;
  // Clips whose split was drawn by hashing their own name because no speaker id is known for
  // them: their speaker's other recordings may sit in another split (speaker leakage).
  size_t split_by_clip = 0;
};

// How to read labels and speakers from file names where the layout does not say. Each pattern is
// an ECMAScript regular expression searched in the file name (no folders); it names its group
// (?<label>...) / (?<speaker>...) or has exactly one capturing group.
struct ImportOptions {
  // Label of every audio file under the root, from its name (flat folders such as
  // LABEL_SPEAKER_N.wav); files it does not match are skipped. Only for folders of audio files.
  std::string label_pattern;
  // Speaker of every clip, from its name, in any layout (e.g. SPEAKER_WORD_NN.wav in class
  // folders); replaces the Speech Commands rule and any speaker column.
  std::string speaker_pattern;
};

// Detects the layout of `root` (a folder, or a manifest / split TSV file) and lists its clips.
// Clips without a split get one from the speaker hash (Speech Commands rule, 60/20/20
// train/val/test), or from a hash of their own name when no speaker is known.
// Throws dkws::Error for a missing root, a bad pattern or a dataset with no usable class.
DatasetIndex open_dataset(const std::filesystem::path& root, const ImportOptions& options = {});

// Speech Commands' speaker id from a file name ("<speaker>_nohash_<n>"), or the base name.
std::string speaker_of(const std::filesystem::path& file);
// The Speech Commands bucket rule: md5(speaker) first 8 hex digits as an integer, mod 100; buckets
// [0, 100 - val - test) train, then val, then test.
std::string split_for_speaker(const std::string& speaker, int val_percent = 20,
                              int test_percent = 20);

// Audits a dataset for `dkws data inspect`. Per class: count, total/min/max seconds, sample rates,
// channel counts, speakers and per-split counts. Problems (each naming its file): unreadable or
// corrupt audio, empty files, clips under 0.5 s, silent clips (peak below 1e-3 of full scale),
// rates other than 16 kHz, more than one channel, groups of byte-identical files, and speakers in
// more than one split. "speaker_warning" says when clips carry no speaker id (the split cannot be
// speaker-disjoint). Bad clips never throw; a missing root or unknown layout does.
nlohmann::json inspect_dataset(const std::filesystem::path& root,
                               const ImportOptions& options = {});

struct SplitSummary {
  std::filesystem::path file;
  size_t rows[3] = {0, 0, 0};      // train, val, test
  size_t speakers[3] = {0, 0, 0};  // distinct speakers per split (names that carry one)
  size_t split_by_clip = 0;        // rows without a speaker id, hashed on their own name
  std::vector<DataProblem> problems;
};
// Re-splits every readable clip of `root` by speaker hash (split_for_speaker; a clip without a
// speaker id hashes on its own name) and writes a split TSV
// ("split<TAB>label<TAB>path<TAB>speaker", paths relative to the TSV's folder, sorted) atomically.
// An empty `out` means root/splits.tsv (root's folder for a file root). `problems` names skipped
// files and, from headers and hashes, clips that are off-rate, multi-channel, short, or
// byte-identical.
SplitSummary write_speaker_split(const std::filesystem::path& root, std::filesystem::path out,
                                 int val_percent = 20, int test_percent = 20,
                                 const ImportOptions& options = {});

// The warning for clips split one by one, naming how to give speakers; empty when there are none.
std::string speaker_leak_warning(size_t split_by_clip, size_t clips);

// Features for one split, row-major: x[i * dim() + j].
struct FeatureSet {
  int frames = 0;
  int coeffs = 0;
  std::vector<float> x;
  std::vector<int> y;
  std::vector<std::string> paths;  // source of each row, for reports
  size_t size() const { return y.size(); }
  int dim() const { return frames * coeffs; }
  const float* row(size_t i) const { return x.data() + i * size_t(dim()); }
};

struct TaskSpec {
  std::string name = "kws12";      // "kws12" | "kw3" | "folder"
  std::filesystem::path data_dir;  // holds speech_commands_v2_test/ and background_noise/,
                                   // or for "folder" the dataset root
  FrontEndConfig front_end;
  std::filesystem::path cache_dir;  // empty disables the feature cache
  uint64_t seed = 1;                // for kw3's sampling and noise crops, and augmentation
  bool quiet = false;
  // augment.variants > 0: also compute that many augmented copies of every training clip
  // (TaskData::train_variants); a relative augment.noise_dir is taken from data_dir.
  AugmentSpec augment;
};

struct TaskData {
  std::string name;
  std::vector<std::string> classes;
  FeatureSet train, val, test;
  // Augmented copies of the training rows, variant-major: row v * train.size() + i is variant v
  // of train row i. Empty unless TaskSpec::augment.variants > 0.
  FeatureSet train_variants;
  int variants = 0;
  // Synthetic training rows (AugmentSpec::synthetic), labelled with this task's classes; empty
  // unless the spec's synthetic_ratio or synthetic_pretrain_epochs uses them.
  FeatureSet synthetic;
  std::vector<std::string> notes;  // class counts and problems, printed on load
  size_t features_computed = 0;    // rows extracted from audio by this load
  size_t features_from_cache = 0;  // rows read from the feature cache
};

// Loads (or computes and caches) the features of a task. Prints class counts and problems to
// stderr unless quiet.
TaskData load_task(const TaskSpec& spec);

}  // namespace dkws
