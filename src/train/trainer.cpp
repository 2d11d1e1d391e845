// The epoch loop. It owns the optimiser and schedule, the best checkpoint and the switching
// decisions; a restructure reverts to the best checkpoint and then, by mode, restarts (control
// arm), adds dendrites directly (gd) or runs a dendrite phase and installs its winners (cc).
#include <chrono>
#include <cmath>
#include <optional>

#include <fmt/core.h>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/teacher.hpp"
#include "dkws/train.hpp"
#include "dkws/util.hpp"
#include "train/epoch.hpp"
#include "train/lr_schedule.hpp"
#include "train/pb_checkpoint.hpp"
#include "train/synthetic_mix.hpp"
#include "train/tracker.hpp"
#include "train/train_state.hpp"

namespace dkws {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class Trainer {
 public:
  Trainer(nn::Sequential& net, const RunConfig& cfg, const TaskData& data, const TrainOptions& opt)
      : net_(net),
        cfg_(cfg),
        data_(data),
        opt_(opt),
        tracker_(make_tracker(cfg.dendrites, cfg.train.scheduler == "plateau",
                              cfg.train.early_stopping)),
        rng_(cfg.train.seed * 0x2545F4914F6CDD1Dull + 7),
        bar_("train", size_t(cfg.train.epochs), opt.quiet) {
    if (cfg.augment.enabled()) {
      if (cfg.augment.variants > 0 && data.variants != cfg.augment.variants)
        throw Error(
            fmt::format("train: augment.variants is {} but the task was loaded with {} "
                        "variants (set TaskSpec::augment)",
                        cfg.augment.variants, data.variants));
      augment_.emplace();
      augment_->variants = &data.train_variants;
      augment_->n_variants = data.variants;
      augment_->spec = cfg.augment;
    }
    const AugmentSpec& a = cfg.augment;
    if ((a.synthetic_ratio > 0 || a.synthetic_pretrain_epochs > 0) && data.synthetic.size() == 0)
      throw Error(
          fmt::format("train: augment.synthetic ({}) is in use but the task was loaded "
                      "without synthetic clips",
                      a.synthetic));
    if (cfg.train.soft_targets()) {
      std::vector<float> teacher;
      if (!cfg.train.teacher.empty())
        teacher = load_teacher_logits(cfg.train.teacher, data.train, data.classes).logits;
      targets_.emplace(cfg.train, int(data.classes.size()), std::move(teacher));
    }
  }

  TrainResult run();

 private:
  bool dendritic() const { return cfg_.dendrites.mode == "gd" || cfg_.dendrites.mode == "cc"; }
  bool pb() const { return cfg_.dendrites.rules == "pb"; }
  bool fixed_switching() const { return cfg_.dendrites.switch_mode == "fixed"; }
  // train.epochs counts neuron-phase epochs only: dendrite phases have budgets of their own.
  bool neuron_budget() const { return cfg_.train.until_complete || fixed_switching(); }
  // Neuron-phase epochs of the kept run (a pb reload discards the history after its checkpoint).
  int neuron_epochs() const {
    int n = 0;
    for (const EpochRecord& r : result_.history) n += r.phase == "N";
    return n;
  }
  bool total_cap_reached() const {
    return cfg_.train.max_total_epochs > 0 && epochs_trained_ >= cfg_.train.max_total_epochs;
  }
  // No further neuron-phase epoch is allowed.
  bool budget_spent() const {
    if (total_cap_reached()) return true;
    return neuron_budget() ? neuron_epochs() >= cfg_.train.epochs : epoch_ >= cfg_.train.epochs;
  }
  // No further dendrite-phase epoch is allowed (beyond the phase's own cap and patience).
  bool dendrite_budget_spent() const {
    return total_cap_reached() || (!neuron_budget() && epoch_ >= cfg_.train.epochs);
  }
  // pb's error means matter only where a dendrite phase will read them.
  bool tracks_errors() const { return pb() && cfg_.dendrites.mode == "cc"; }
  // Adam at the initial rate, or `start_steps` scheduler steps below it (pb's rate search).
  void reset_optimiser(int start_steps = 0) {
    const double lr = cfg_.train.lr * std::pow(cfg_.train.plateau_factor, start_steps);
    adam_ = std::make_unique<nn::Adam>(net_.params(), float(lr));
    scheduler_ = std::make_unique<nn::ReduceLROnPlateau>(true, float(cfg_.train.plateau_factor),
                                                         cfg_.train.plateau_patience);
  }
  // Soft targets' mixup draws, like augmentation's, depend on the seed and epoch only.
  SoftTargets* epoch_targets() {
    if (!targets_) return nullptr;
    targets_->begin_epoch(cfg_.train.seed, epoch_);
    return &*targets_;
  }
  EpochRecord begin_record(char phase) {
    EpochRecord rec;
    ++epochs_trained_;
    rec.epoch = ++epoch_;
    rec.phase.assign(1, phase);
    rec.lr = adam_->lr();
    rec.dendrites = dendritic() ? dendrite::dendrite_count(net_) : 0;
    rec.params = net_.count_params();
    return rec;
  }
  // Evaluation in the training batch size: the network's buffers keep one size. At 256 they grew
  // from 32 to 256 items at every epoch's evaluation, and every growth is zero-filled (about 1 %
  // of a sweep's time). An item's result does not depend on its batch, so accuracies, which all
  // decisions use, are the same; the reported loss is summed per batch and can move in its last
  // digits.
  EvalResult eval(const FeatureSet& set) { return evaluate(net_, set, cfg_.train.batch_size); }
  // The rows this epoch trains on: the training split, with synthetic rows mixed in when asked.
  const FeatureSet& epoch_rows() {
    const double ratio = cfg_.augment.synthetic_ratio;
    if (ratio <= 0) return data_.train;
    return mix_.epoch_rows(data_.train, data_.synthetic, ratio, cfg_.train.seed, epoch_);
  }
  // Augmentation draws depend on the seed and epoch only, so a resumed run repeats them.
  EpochAugment* epoch_augment() {
    if (!augment_) return nullptr;
    augment_->rng.reseed(cfg_.train.seed * 0x9E3779B97F4A7C15ull + uint64_t(epoch_));
    return &*augment_;
  }
  void finish_record(EpochRecord& rec, Clock::time_point start) {
    rec.seconds = seconds_since(start);
    result_.history.push_back(rec);
    bar_.update(
        size_t(epoch_),
        fmt::format("{} loss {:.3f} val {:.3f} best {:.3f}@{} d={}", rec.phase, rec.train_loss,
                    rec.val_acc, result_.best_val_acc, result_.best_epoch, rec.dendrites));
  }
  // Returns false when training is complete.
  bool neuron_epoch();
  void save_state(double elapsed);
  void write_state_file(nn::Sequential& net, const nlohmann::json& state);
  bool load_state(double& elapsed);
  void restructure();
  void dendrite_phase();
  // pb's warm-up must end inside a dendrite phase's first epoch.
  void check_warmup_fits() const {
    const size_t batches =
        (data_.train.size() + size_t(cfg_.train.batch_size) - 1) / size_t(cfg_.train.batch_size);
    if (size_t(cfg_.dendrites.initial_correlation_batches) >= batches)
      throw Error(fmt::format(
          "dendrites.initial_correlation_batches: {} must be below the {} batches per epoch",
          cfg_.dendrites.initial_correlation_batches, batches));
  }
  // pb: a checkpoint of the live run (with its net and optimiser, or neither), and a reload.
  PbCheckpoint capture(bool with_net, bool with_optimiser);
  void reload(const PbCheckpoint& c);
  void pretrain_on_synthetic();
  void rate_search(const SwitchDecision& d);
  nlohmann::json pb_state();
  void load_pb_state(const nlohmann::json& j, const std::string& source);

  nn::Sequential& net_;
  const RunConfig& cfg_;
  const TaskData& data_;
  const TrainOptions& opt_;
  std::unique_ptr<Tracker> tracker_;
  Rng rng_;
  Progress bar_;
  std::unique_ptr<nn::Adam> adam_;
  std::unique_ptr<nn::ReduceLROnPlateau> scheduler_;
  nn::Sequential best_;
  EpochScratch scratch_;
  std::optional<EpochAugment> augment_;
  std::optional<SoftTargets> targets_;
  SyntheticMix mix_;
  TrainResult result_;
  int epoch_ = 0;
  int epochs_trained_ = 0;  // every epoch trained, including those a pb reload discarded
  PbCheckpoint pb_best_, pb_post_install_, pb_kept_;  // pb: best, after install, better run
};

bool Trainer::neuron_epoch() {
  const auto start = Clock::now();
  // epoch_ is the 0-based index of the epoch about to run; a switch's optimiser restart does not
  // restart an epoch-indexed schedule.
  if (epoch_scheduled(cfg_.train)) adam_->set_lr(float(scheduled_lr(cfg_.train, epoch_)));
  EpochRecord rec = begin_record('N');
  const EpochStats st =
      train_epoch(net_, *adam_, net_.params(), epoch_rows(), cfg_.train.batch_size, rng_, scratch_,
                  epoch_augment(), epoch_targets());
  rec.train_loss = st.loss;
  rec.train_acc = st.acc;
  if (cfg_.train.eval_train_accuracy) rec.train_eval_acc = eval(data_.train).accuracy;
  const EvalResult val = eval(data_.val);
  rec.val_acc = val.accuracy;
  rec.val_loss = val.loss;
  const float lr_before = adam_->lr();
  if (cfg_.train.scheduler == "plateau")
    adam_->set_lr(scheduler_->step(float(val.accuracy), adam_->lr()));

  const SwitchDecision d = tracker_->observe(val.accuracy, adam_->lr() < lr_before);
  rec.val_score = tracker_->smoothed_score();
  if (d.new_best) {
    best_ = clone_net(net_);
    result_.best_epoch = epoch_;
    result_.best_val_acc = val.accuracy;
    result_.val_loss = val.loss;
  }
  rec.event = d.reason;
  finish_record(rec, start);
  if (pb() && d.new_best) pb_best_ = capture(false, false);
  if (d.search != RateSearch::kNone) {
    rate_search(d);
    return true;
  }
  if (d.action == SwitchAction::kContinue) return true;
  const int switched_at = epoch_;
  // Every switch reverts to the best checkpoint, discarding dendrites that never beat it (fixed
  // switching: the best of the cycle just ended, which holds every dendrite added so far).
  net_ = clone_net(best_);
  // A pb reload rewinds the epoch counter; fixed switching keeps every arm's epochs equal, so
  // there only the error means go back to the checkpoint's.
  if (pb() && fixed_switching())
    set_error_means(net_, pb_best_.error_means, tracks_errors());
  else if (pb())
    reload(pb_best_);
  result_.transitions.push_back(
      {{"epoch", switched_at},
       {"action", d.action == SwitchAction::kComplete ? "complete" : "restructure"},
       {"reason", d.reason},
       {"dendrites", dendritic() ? dendrite::dendrite_count(net_) : tracker_->committed_steps()},
       {"params", net_.count_params()},
       {"best_val", tracker_->best_score()}});
  if (pb()) result_.transitions.back()["resumed_at"] = epoch_;
  if (d.action == SwitchAction::kComplete) return false;
  restructure();
  return true;
}

void Trainer::restructure() {
  if (cfg_.dendrites.mode == "gd") dendrite::add_gd_dendrites(net_, cfg_.dendrites, rng_);
  if (cfg_.dendrites.mode == "cc") dendrite_phase();
  tracker_->restructured(1);
  if (dendritic()) dendrite::set_neuron_phase(net_, cfg_.dendrites);
  reset_optimiser();  // restart at the initial rate, as every arm with switches does
  if (tracks_errors()) set_error_means(net_, {}, true);
  if (pb()) {
    pb_post_install_ = capture(true, false);
    result_.transitions.back()["installed_at"] = epoch_;
  }
  result_.transitions.back()["dendrites_after"] = dendritic() ? dendrite::dendrite_count(net_) : 0;
  result_.transitions.back()["params_after"] = net_.count_params();
}

void Trainer::dendrite_phase() {
  const DendriteSpec& ds = cfg_.dendrites;
  auto layers = dendrite::wrapped_layers(net_);
  std::vector<nn::Param*> candidates;
  const dendrite::PbCandidateOptions pb_options{
      ds.initial_correlation_batches, ds.correlation_reduce == "mean", 0.01 * ds.init_multiplier};
  for (auto* layer : layers) {
    layer->freeze_all();
    if (pb())
      layer->begin_pb_candidates(ds.candidates, rng_, pb_options);
    else
      layer->begin_candidates(ds.candidates, rng_);
    for (nn::Param* p : layer->candidate_params()) candidates.push_back(p);
  }
  nn::Adam candidate_opt(candidates, float(cfg_.train.lr));
  double best_score = -1;
  int since_best = 0;
  for (int p_epoch = 0; p_epoch < ds.p_max_epochs && !dendrite_budget_spent(); ++p_epoch) {
    const auto start = Clock::now();
    EpochRecord rec = begin_record('P');
    if (pb()) rec.lr = candidate_opt.lr();
    for (auto* layer : layers) layer->reset_epoch_scores();
    const EpochStats st =
        train_epoch(net_, candidate_opt, candidates, epoch_rows(), cfg_.train.batch_size, rng_,
                    scratch_, epoch_augment(), epoch_targets());
    rec.train_loss = st.loss;
    rec.train_acc = st.acc;
    rec.val_acc = result_.history.empty() ? 0 : result_.history.back().val_acc;
    rec.val_score = tracker_->smoothed_score();
    double total = 0;
    for (auto* layer : layers) {
      rec.dendrite_scores.push_back(layer->epoch_score());
      total += rec.dendrite_scores.back();
    }
    // Classic rules: each candidate's channels are installed from the epoch of their best score.
    if (!pb())
      for (auto* layer : layers) layer->keep_best_candidate_rows();
    bool improved = total > best_score;
    if (pb()) {
      improved = false;
      for (auto* layer : layers) improved = layer->end_pb_epoch() || improved;
      // The run's plateau scheduler keeps stepping, on the (unchanging) validation score.
      if (cfg_.train.scheduler == "plateau")
        candidate_opt.set_lr(scheduler_->step(float(rec.val_acc), candidate_opt.lr()));
    }
    if (improved) best_score = total, since_best = 0;
    const bool done = !improved && ++since_best >= ds.p_epochs_to_switch;
    if (done) rec.event = "dendrite scores stalled: installing";
    finish_record(rec, start);
    if (opt_.poll) opt_.poll();
    if (done) break;
  }
  for (auto* layer : layers) layer->install_best_candidates();
}

PbCheckpoint Trainer::capture(bool with_net, bool with_optimiser) {
  PbCheckpoint c;
  if (with_net) c.net = clone_net(net_);
  c.epoch = epoch_;
  c.error_means = error_means(net_);
  if (with_optimiser) c.adam = adam_->state(), c.scheduler = scheduler_->state();
  c.history = result_.history;
  return c;
}

// Puts a checkpoint back; the epoch counter goes back with it, so the epochs it discards do not
// count toward the budget.
void Trainer::reload(const PbCheckpoint& c) {
  if (c.net) net_ = clone_net(*c.net);
  epoch_ = c.epoch;
  result_.history = c.history;
  set_error_means(net_, c.error_means, tracks_errors());
  if (c.adam.is_null()) return;
  reset_optimiser();
  adam_->load_state(c.adam);
  scheduler_->load_state(c.scheduler);
}

// augment.synthetic_pretrain_epochs on the synthetic clips alone, before the run proper, with an
// optimiser of its own at the configured rate and plain one-hot targets. These epochs are outside
// the history and the epoch budget (a transition records them); the run then starts from the
// pretrained weights with its own fresh optimiser and schedule: fine-tuning on the real clips.
void Trainer::pretrain_on_synthetic() {
  const int epochs = cfg_.augment.synthetic_pretrain_epochs;
  nn::Adam optimiser(net_.params(), float(cfg_.train.lr));
  EpochStats st;
  for (int e = 0; e < epochs; ++e) {
    st = train_epoch(net_, optimiser, net_.params(), data_.synthetic, cfg_.train.batch_size, rng_,
                     scratch_);
    if (opt_.poll) opt_.poll();
  }
  const double val = eval(data_.val).accuracy;
  result_.transitions.push_back({{"epoch", 0},
                                 {"action", "synthetic pretraining"},
                                 {"epochs", epochs},
                                 {"clips", data_.synthetic.size()},
                                 {"train_acc", st.acc},
                                 {"val_acc", val}});
  if (!opt_.quiet)
    fmt::print(stderr, "pretrained {} epochs on {} synthetic clips: train {:.3f}, val {:.3f}\n",
               epochs, data_.synthetic.size(), st.acc, val);
}

void Trainer::rate_search(const SwitchDecision& d) {
  const int at = epoch_;
  if (d.search == RateSearch::kTryLowerStart) {
    pb_kept_ = capture(true, true);
    reload(pb_post_install_);
    reset_optimiser(d.start_steps);
  } else {
    reload(pb_kept_);
  }
  result_.transitions.push_back({{"epoch", at},
                                 {"action", "rate search"},
                                 {"reason", d.reason},
                                 {"resumed_at", epoch_},
                                 {"lr", adam_->lr()}});
}

nlohmann::json Trainer::pb_state() {
  return {{"epochs_trained", epochs_trained_},
          {"error_means", error_means(net_)},
          {"best", to_json(pb_best_)},
          {"post_install", to_json(pb_post_install_)},
          {"kept", to_json(pb_kept_)}};
}

void Trainer::load_pb_state(const nlohmann::json& j, const std::string& source) {
  epochs_trained_ = j.at("epochs_trained");
  set_error_means(net_, j.at("error_means").get<std::vector<std::vector<double>>>(),
                  tracks_errors());
  pb_best_ = pb_checkpoint_from_json(j.at("best"), source);
  pb_post_install_ = pb_checkpoint_from_json(j.at("post_install"), source);
  pb_kept_ = pb_checkpoint_from_json(j.at("kept"), source);
}

void Trainer::save_state(double elapsed) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& r : result_.history) history.push_back(to_json(r));
  const nlohmann::json state = {{"epoch", epoch_},
                                {"elapsed", elapsed},
                                {"best", net_to_json(best_)},
                                {"adam", adam_->state()},
                                {"scheduler", scheduler_->state()},
                                {"tracker", tracker_->state()},
                                {"rng", rng_.state()},
                                {"result",
                                 {{"best_epoch", result_.best_epoch},
                                  {"best_val_acc", result_.best_val_acc},
                                  {"val_loss", result_.val_loss},
                                  {"transitions", result_.transitions},
                                  {"history", history}}}};
  if (!pb()) return write_state_file(net_, state);
  nlohmann::json with_pb = state;
  with_pb["pb"] = pb_state();
  write_state_file(net_, with_pb);
}

// The state file is a model file (see model_file.hpp) of the live network whose
// "training_state" holds everything else a resume needs; null once training is complete.
void Trainer::write_state_file(nn::Sequential& net, const nlohmann::json& state) {
  SavedModel doc;
  doc.config = cfg_;
  doc.classes = data_.classes;
  doc.net = clone_net(net);
  doc.training_state = state;
  save_model(opt_.state_path, doc);
}

bool Trainer::load_state(double& elapsed) {
  if (!std::filesystem::exists(opt_.state_path)) return false;
  const std::string source = opt_.state_path.string();
  try {
    const nlohmann::json doc = nlohmann::json::parse(read_file(opt_.state_path));
    const nlohmann::json& j = doc.at("training_state");
    if (j.is_null()) return false;  // a finished run: train afresh
    if (doc.at("config") != cfg_.to_json())
      throw Error(fmt::format(
          "{}: saved state belongs to a different config; remove it to start over", source));
    epoch_ = j.at("epoch");
    elapsed = j.at("elapsed");
    net_ = net_from_json(doc, source);
    best_ = net_from_json(j.at("best"), source);
    reset_optimiser();
    adam_->load_state(j.at("adam"));
    scheduler_->load_state(j.at("scheduler"));
    tracker_->load_state(j.at("tracker"));
    rng_.set_state(j.at("rng").get<std::array<uint64_t, 6>>());
    const auto& r = j.at("result");
    result_.best_epoch = r.at("best_epoch");
    result_.best_val_acc = r.at("best_val_acc");
    result_.val_loss = r.at("val_loss");
    result_.transitions = r.at("transitions");
    result_.history.clear();
    for (const auto& h : r.at("history")) result_.history.push_back(epoch_record_from_json(h));
    epochs_trained_ = epoch_;
    if (pb()) load_pb_state(j.at("pb"), source);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: unreadable training state ({}); remove it to start over", source,
                            e.what()));
  }
  return true;
}

TrainResult Trainer::run() {
  if (data_.train.size() == 0) throw Error("train: the training split is empty");
  if (data_.val.size() == 0) throw Error("train: the validation split is empty");
  if (dendritic()) {
    dendrite::wrap_layers(net_, cfg_.dendrites);
    dendrite::set_neuron_phase(net_, cfg_.dendrites);
  }
  if (tracks_errors()) {
    check_warmup_fits();
    set_error_means(net_, {}, true);
  }
  reset_optimiser();
  best_ = clone_net(net_);
  if (pb()) pb_best_ = capture(false, false);
  double before = 0;  // training seconds spent before a resume
  const auto t0 = Clock::now();
  // Said even under --quiet: a resumed run is not the run the user may think they started.
  if (!opt_.state_path.empty() && load_state(before)) {
    fmt::print(stderr, "resuming {} at epoch {}\n", opt_.state_path.string(), epoch_ + 1);
  } else if (cfg_.augment.synthetic_pretrain_epochs > 0) {  // a resumed state holds its result
    pretrain_on_synthetic();
    best_ = clone_net(net_);
    if (pb()) pb_best_ = capture(false, false);
  }
  bool running = true;
  while (running && !budget_spent()) {
    running = neuron_epoch();
    if (!opt_.state_path.empty()) save_state(before + seconds_since(t0));
    if (opt_.after_epoch) opt_.after_epoch(epoch_);
    if (opt_.poll) opt_.poll();
  }
  bar_.finish();
  net_ = std::move(best_);
  result_.epochs_run = epoch_;
  result_.epochs_trained = epochs_trained_;
  result_.train_seconds = before + seconds_since(t0);
  if (!opt_.state_path.empty()) write_state_file(net_, nullptr);
  const EvalResult test = eval(data_.test);
  result_.test_acc = test.accuracy;
  result_.test_confusion =
      confusion_matrix(data_.test.y, test.predictions, int(data_.classes.size()));
  return result_;
}

}  // namespace

TrainResult train_model(nn::Sequential& net, const RunConfig& cfg, const TaskData& data,
                        const TrainOptions& opt) {
  Trainer t(net, cfg, data, opt);
  return t.run();
}

}  // namespace dkws
