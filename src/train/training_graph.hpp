// The per-run training graph (training_graph.svg), in the spirit of the PerforatedAI reference
// library's training graph: stacked panels over a shared epoch axis showing train/validation
// accuracy with dendrite-phase bands and transition markers, the dendrite score per wrapped layer,
// the learning rate and the parameter count.
#pragma once
#include <string>

#include "dkws/train.hpp"

namespace dkws {

// A self-contained SVG (no external fonts or scripts). Always valid, even for an empty history.
// Marked elements carry classes that tests count: 'series' (one path per plotted line),
// 'phase-band' (one group per run of consecutive P epochs), 'marker' (one group per transition)
// and 'best' (the best-validation epoch).
std::string training_graph_svg(const TrainResult& r, const std::string& title);

}  // namespace dkws
