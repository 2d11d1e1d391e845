// Epoch-indexed learning-rate schedules: cosine annealing and one-cycle. Both depend on the epoch
// number only, so a resumed run, and a run whose optimiser restarts after a dendrite switch, gets
// the same rate for the same epoch. The plateau scheduler, which reacts to validation scores,
// lives in nn::ReduceLROnPlateau.
#pragma once
#include "dkws/config.hpp"

namespace dkws {

// Whether `scheduler` is one of the epoch-indexed schedules below.
bool epoch_scheduled(const TrainSpec& t);

// The rate for 0-based `epoch` of `t.epochs`:
//   cosine:   lr_end + (lr - lr_end) * (1 + cos(pi * epoch / (epochs - 1))) / 2
//   onecycle: a linear rise from lr_end to lr over the first warmup_fraction of the epochs, then
//             the cosine above from lr down to lr_end over the rest,
// with lr_end = lr * final_lr_fraction; the last epoch trains at lr_end. Any other scheduler: lr.
double scheduled_lr(const TrainSpec& t, int epoch);

}  // namespace dkws
