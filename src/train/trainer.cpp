// The epoch loop. It owns the optimiser and schedule, the best checkpoint and the switching
// decisions; a restructure reverts to the best checkpoint and then, by mode, restarts (control
// arm), adds dendrites directly (gd) or runs a dendrite phase and installs its winners (cc).
#include <chrono>
#include <optional>

#include <fmt/core.h>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/train.hpp"
#include "dkws/util.hpp"
#include "train/epoch.hpp"
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
        tracker_(cfg.dendrites, cfg.train.early_stopping),
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
  }

  TrainResult run();

 private:
  bool dendritic() const { return cfg_.dendrites.mode == "gd" || cfg_.dendrites.mode == "cc"; }
  void reset_optimiser() {
    adam_ = std::make_unique<nn::Adam>(net_.params(), float(cfg_.train.lr));
    scheduler_ = std::make_unique<nn::ReduceLROnPlateau>(true, float(cfg_.train.plateau_factor),
                                                         cfg_.train.plateau_patience);
  }
  EpochRecord begin_record(char phase) {
    EpochRecord rec;
    rec.epoch = ++epoch_;
    rec.phase.assign(1, phase);
    rec.lr = adam_->lr();
    rec.dendrites = dendritic() ? dendrite::dendrite_count(net_) : 0;
    rec.params = net_.count_params();
    return rec;
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

  nn::Sequential& net_;
  const RunConfig& cfg_;
  const TaskData& data_;
  const TrainOptions& opt_;
  SwitchTracker tracker_;
  Rng rng_;
  Progress bar_;
  std::unique_ptr<nn::Adam> adam_;
  std::unique_ptr<nn::ReduceLROnPlateau> scheduler_;
  nn::Sequential best_;
  EpochScratch scratch_;
  std::optional<EpochAugment> augment_;
  TrainResult result_;
  int epoch_ = 0;
};

bool Trainer::neuron_epoch() {
  const auto start = Clock::now();
  EpochRecord rec = begin_record('N');
  const EpochStats st = train_epoch(net_, *adam_, net_.params(), data_.train, cfg_.train.batch_size,
                                    rng_, scratch_, epoch_augment());
  rec.train_loss = st.loss;
  rec.train_acc = st.acc;
  const EvalResult val = evaluate(net_, data_.val);
  rec.val_acc = val.accuracy;
  rec.val_loss = val.loss;
  if (cfg_.train.scheduler == "plateau")
    adam_->set_lr(scheduler_->step(float(val.accuracy), adam_->lr()));

  const SwitchDecision d = tracker_.observe(val.accuracy);
  rec.val_score = tracker_.smoothed_score();
  if (d.new_best) {
    best_ = clone_net(net_);
    result_.best_epoch = epoch_;
    result_.best_val_acc = val.accuracy;
    result_.val_loss = val.loss;
  }
  if (d.action == SwitchAction::kContinue) {
    finish_record(rec, start);
    return true;
  }
  rec.event = d.reason;
  finish_record(rec, start);
  // Every switch reverts to the best checkpoint, discarding dendrites that never beat it.
  net_ = clone_net(best_);
  result_.transitions.push_back(
      {{"epoch", epoch_},
       {"action", d.action == SwitchAction::kComplete ? "complete" : "restructure"},
       {"reason", d.reason},
       {"dendrites", dendritic() ? dendrite::dendrite_count(net_) : tracker_.committed_steps()},
       {"params", net_.count_params()},
       {"best_val", tracker_.best_score()}});
  if (d.action == SwitchAction::kComplete) return false;
  restructure();
  return true;
}

void Trainer::restructure() {
  if (cfg_.dendrites.mode == "gd") dendrite::add_gd_dendrites(net_, cfg_.dendrites, rng_);
  if (cfg_.dendrites.mode == "cc") dendrite_phase();
  tracker_.restructured(1);
  if (dendritic()) dendrite::set_neuron_phase(net_, cfg_.dendrites);
  reset_optimiser();  // restart at the initial rate, as every arm with switches does
  result_.transitions.back()["dendrites_after"] = dendritic() ? dendrite::dendrite_count(net_) : 0;
  result_.transitions.back()["params_after"] = net_.count_params();
}

void Trainer::dendrite_phase() {
  const DendriteSpec& ds = cfg_.dendrites;
  auto layers = dendrite::wrapped_layers(net_);
  std::vector<nn::Param*> candidates;
  for (auto* layer : layers) {
    layer->freeze_all();
    layer->begin_candidates(ds.candidates, rng_);
    for (nn::Param* p : layer->candidate_params()) candidates.push_back(p);
  }
  nn::Adam candidate_opt(candidates, float(cfg_.train.lr));
  double best_score = -1;
  int since_best = 0;
  for (int p_epoch = 0; p_epoch < ds.p_max_epochs && epoch_ < cfg_.train.epochs; ++p_epoch) {
    const auto start = Clock::now();
    EpochRecord rec = begin_record('P');
    for (auto* layer : layers) layer->reset_epoch_scores();
    const EpochStats st = train_epoch(net_, candidate_opt, candidates, data_.train,
                                      cfg_.train.batch_size, rng_, scratch_, epoch_augment());
    rec.train_loss = st.loss;
    rec.train_acc = st.acc;
    rec.val_acc = result_.history.empty() ? 0 : result_.history.back().val_acc;
    rec.val_score = tracker_.smoothed_score();
    double total = 0;
    for (auto* layer : layers) {
      rec.dendrite_scores.push_back(layer->epoch_score());
      total += rec.dendrite_scores.back();
    }
    const bool improved = total > best_score;
    if (improved) best_score = total, since_best = 0;
    const bool done = !improved && ++since_best >= ds.p_epochs_to_switch;
    if (done) rec.event = "dendrite scores stalled: installing";
    finish_record(rec, start);
    if (opt_.poll) opt_.poll();
    if (done) break;
  }
  for (auto* layer : layers) layer->install_best_candidates();
}

void Trainer::save_state(double elapsed) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& r : result_.history) history.push_back(to_json(r));
  const nlohmann::json state = {{"epoch", epoch_},
                                {"elapsed", elapsed},
                                {"best", net_to_json(best_)},
                                {"adam", adam_->state()},
                                {"scheduler", scheduler_->state()},
                                {"tracker", tracker_.state()},
                                {"rng", rng_.state()},
                                {"result",
                                 {{"best_epoch", result_.best_epoch},
                                  {"best_val_acc", result_.best_val_acc},
                                  {"val_loss", result_.val_loss},
                                  {"transitions", result_.transitions},
                                  {"history", history}}}};
  write_state_file(net_, state);
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
    tracker_.load_state(j.at("tracker"));
    rng_.set_state(j.at("rng").get<std::array<uint64_t, 6>>());
    const auto& r = j.at("result");
    result_.best_epoch = r.at("best_epoch");
    result_.best_val_acc = r.at("best_val_acc");
    result_.val_loss = r.at("val_loss");
    result_.transitions = r.at("transitions");
    result_.history.clear();
    for (const auto& h : r.at("history")) result_.history.push_back(epoch_record_from_json(h));
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
  reset_optimiser();
  best_ = clone_net(net_);
  double before = 0;  // training seconds spent before a resume
  // Said even under --quiet: a resumed run is not the run the user may think they started.
  if (!opt_.state_path.empty() && load_state(before))
    fmt::print(stderr, "resuming {} at epoch {}\n", opt_.state_path.string(), epoch_ + 1);
  const auto t0 = Clock::now();
  bool running = true;
  while (running && epoch_ < cfg_.train.epochs) {
    running = neuron_epoch();
    if (!opt_.state_path.empty()) save_state(before + seconds_since(t0));
    if (opt_.after_epoch) opt_.after_epoch(epoch_);
    if (opt_.poll) opt_.poll();
  }
  bar_.finish();
  net_ = std::move(best_);
  result_.epochs_run = epoch_;
  result_.train_seconds = before + seconds_since(t0);
  if (!opt_.state_path.empty()) write_state_file(net_, nullptr);
  const EvalResult test = evaluate(net_, data_.test);
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
