// A run's configuration: task, front end, model, training and dendrite settings, read from one
// JSON file. Every key is checked: an unknown key or an out-of-range value is a dkws::Error that
// names it ("config.json: train.lr: must be > 0").
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/dsp.hpp"

namespace dkws {

struct ModelSpec {
  // "ei_conv1d": Edge Impulse's default 1D CNN; "audio_classifier": the paper's sweepable family;
  // "ds_cnn": a depthwise-separable CNN over time (Hello Edge).
  std::string family = "ei_conv1d";
  int num_conv = 2;    // conv blocks: audio_classifier 1..3, ei_conv1d 1..4, ds_cnn 1..6
  int num_linear = 1;  // audio_classifier: 1..2 dense layers
  double width = 1.0;  // channel multiplier (ds_cnn: 16 * width channels)
  int growth = 0;      // row of the channel table, 0..5
  // Where `dropout` acts. "conv": after every conv block (Edge Impulse; dkws's first
  // audio_classifier). "linear": before every dense layer, with conv blocks at `conv_dropout`
  // (the paper's AudioClassifier, the audio_classifier default).
  std::string dropout_at = "conv";
  double dropout = 0.25;
  double conv_dropout = 0.25;  // dropout_at "linear": the fixed rate after each conv block
  // Weight init. "glorot": Keras glorot_uniform, zero bias (Edge Impulse). "torch": PyTorch's
  // default for Conv/Linear, U(+-1/sqrt(fan_in)) for weights and biases (the paper's model).
  std::string init = "glorot";
  double noise = 0.0;      // Gaussian input noise stddev (audio_classifier)
  bool pool_same = false;  // audio_classifier pooling: false = torch floor, true = Keras 'same'
  double max_norm = 0.0;   // per-filter L2 bound on conv weights; 0 disables
};

struct TrainSpec {
  int epochs = 100;
  int batch_size = 32;
  double lr = 0.005;
  // "none" | "plateau" (on validation accuracy) | "cosine" | "onecycle" (by epoch:
  // src/train/lr_schedule.hpp)
  std::string scheduler = "none";
  int plateau_patience = 5;
  double plateau_factor = 0.1;
  uint64_t seed = 1;
  // Mode none: stop after dendrites.n_epochs_to_switch epochs without a better validation score.
  // Off, every epoch is trained and the best-validation checkpoint kept (as Edge Impulse does);
  // dendrite modes and the restart control follow their switch rules either way. Sweep trials
  // default to on, the paper's protocol.
  bool early_stopping = false;
  // The paper's protocol: train until the switching tracker completes. On, `epochs` counts
  // neuron-phase epochs only and is a safety cap (set it high); each dendrite phase has its own
  // budget (dendrites.p_max_epochs, p_epochs_to_switch). Off, `epochs` counts every epoch of both
  // phases and ends the run when spent (dkws's first protocol).
  bool until_complete = false;
  // Safety cap on every epoch trained, both phases and pb's discarded epochs included; 0: none.
  int max_total_epochs = 0;
  // Also measure train accuracy in eval mode (no dropout or noise) after every neuron epoch: the
  // figure that can show overfitting, which the train-mode one (dropout active) cannot.
  bool eval_train_accuracy = true;
  // cosine / onecycle: the rate ends at lr * final_lr_fraction; onecycle warms up from
  // lr * final_lr_fraction over the first warmup_fraction of the epochs.
  double final_lr_fraction = 0.01;
  double warmup_fraction = 0.3;
  // Targets (src/train/soft_targets.hpp): one-hot labels smoothed by label_smoothing; mixup > 0
  // mixes each batch with a shuffled copy of itself at Beta(mixup, mixup).
  double label_smoothing = 0.0;
  double mixup = 0.0;
  // Knowledge distillation: a teacher-logits file written by `dkws teacher` ("" none). The loss
  // is (1 - distill_weight) * CE(labels) + distill_weight * T^2 * CE(softmax(teacher / T),
  // softmax(student / T)) with T = distill_temperature.
  std::string teacher;
  double distill_weight = 0.5;
  double distill_temperature = 4.0;
  // Whether the targets differ from plain one-hot labels.
  bool soft_targets() const { return label_smoothing > 0 || mixup > 0 || !teacher.empty(); }
};

struct DendriteSpec {
  std::string mode = "none";        // "none" | "gd" | "cc"
  std::string layers = "all";       // "all" | "dense" | "conv": which layers get dendrites
  std::string activation = "tanh";  // "tanh" | "sigmoid" | "relu"
  int max_dendrites = 2;
  int max_dendrite_tries = 2;
  int n_epochs_to_switch = 10;
  int p_epochs_to_switch = 10;
  int p_max_epochs = 50;
  int candidates = 1;            // K candidates per neuron in the dendrite phase
  double init_multiplier = 0.1;  // gd: weights ~ N(0, (0.01 m)^2)
  std::vector<double> thresholds = {0.001, 0.0001, 0.0};
  double raw_threshold = 1e-5;
  double history_lookback = 1;  // EMA span of the validation score
  bool train_cascade = true;    // u_kj trainable in the neuron phase
  bool restart_only = false;    // the `restart` control arm: resets without dendrites
  // "classic" (DESIGN.md section 3) or "pb", Perforated AI's own rules (src/train/tracker_pb.hpp,
  // src/dendrite/candidates_pb.cpp). Only pb reads the keys below; under pb, p_max_epochs is the
  // dendrite phase's safety cap and max_dendrite_tries + 1 consecutive failed cycles end a run.
  std::string rules = "classic";
  int initial_correlation_batches = 40;    // warm-up batches of a dendrite phase: nothing learns
  bool train_dendrites = true;             // installed g_k keep learning in the neuron phase
  std::string correlation_reduce = "sum";  // the per-batch correlation over batch x positions
  // "plateau": switch after n_epochs_to_switch epochs without a better score. "fixed": switch
  // every `switch_every` neuron-phase epochs (PerforatedAI's fixed-switch mode); gd and cc add a
  // dendrite at each of max_dendrites switches, restart restarts there, and none trains the same
  // switch_every * (max_dendrites + 1) epochs straight through, so every arm trains as long.
  std::string switch_mode = "plateau";
  int switch_every = 10;
};

// Training-time augmentation (all off by default). Waveform changes (time shift, noise mixing,
// gain) are baked into `variants` precomputed copies of every training clip, because features
// cost far more than a training step; each epoch draws, per row, the clean clip or one variant.
// SpecAugment masks are cheap and drawn afresh for every row of every epoch. Everything is
// deterministic in train.seed.
struct AugmentSpec {
  int variants = 0;         // augmented copies per training clip; 0 disables waveform aug
  std::string noise_dir;    // noise recordings to mix in; relative to data_dir; "" none
  double noise_prob = 0.8;  // chance that a variant gets noise
  std::vector<double> snr_db = {5, 20};   // [lo, hi]: SNR drawn uniformly (dB)
  double shift_ms = 100;                  // time shift drawn uniformly in [-shift_ms, shift_ms]
  std::vector<double> gain_db = {-6, 6};  // [lo, hi]: gain drawn uniformly (dB)
  int time_masks = 0;                     // SpecAugment: masks per row, width uniform in [0, max]
  int time_mask_frames = 10;
  int freq_masks = 0;
  int freq_mask_bins = 4;
  // Synthetic speech: a class-folder dataset made by `dkws data synth`, whose clips (all of them,
  // whatever their split) join training only; validation and test stay real. Its classes map to
  // the task's by name, and synth's 'unknown' and 'noise' to '_unknown_' and '_silence_' where
  // the task has those; other classes are left out. A relative path is from the working folder.
  std::string synthetic;
  double synthetic_ratio = 0;         // share of each epoch's training rows that are synthetic
  int synthetic_pretrain_epochs = 0;  // epochs on the synthetic clips alone, before real training
  bool enabled() const { return variants > 0 || time_masks > 0 || freq_masks > 0; }
};

struct RunConfig {
  std::string task = "kws12";      // "kws12" | "kw3" | "folder"
  std::filesystem::path data_dir;  // empty: $DKWS_DATA or ../shared/data
  FrontEndConfig front_end;
  ModelSpec model;
  TrainSpec train;
  DendriteSpec dendrites;
  AugmentSpec augment;

  nlohmann::json to_json() const;
};

// Parses a config; `source` names the file in error messages. Missing keys take defaults that
// depend on the model family (audio_classifier: plateau scheduler, max_norm 1).
RunConfig parse_run_config(const nlohmann::json& j, const std::string& source);
RunConfig load_run_config(const std::filesystem::path& path);
// Applies "section.key=value" overrides (as given on the command line) and re-validates.
void apply_override(RunConfig& cfg, const std::string& assignment);
void validate(const RunConfig& cfg, const std::string& source);

// The data folder to use when none is configured: $DKWS_DATA, else ../shared/data beside the
// working directory's repository, else empty.
std::filesystem::path default_data_dir();

}  // namespace dkws
