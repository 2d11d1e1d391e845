# The pipeline's stages, lowest first: one folder and one static library (dkws_<stage>) each.
#
#   dkws_stage(NAME [DIR folder] [DEPENDS stage...] [HEADERS header...])
#
# DIR is the stage's folder (src/NAME unless given). A stage may include headers of, and call into,
# only itself and the stages it DEPENDS on, and theirs in turn; every stage it names must stand
# above it in this list, so the arrows between stages point one way. HEADERS are the stage's public
# headers under include/dkws/. The build links each library to exactly its DEPENDS, and
# cmake/check_stage_includes.cmake (the ctest test stage_includes) checks every #include against
# this table. docs/design.md explains the order.
#
# Read by CMakeLists.txt and by cmake/check_stage_includes.cmake.

macro(dkws_stage name)
  cmake_parse_arguments(_stage "" "DIR" "DEPENDS;HEADERS" ${ARGN})
  if(NOT _stage_DIR)
    set(_stage_DIR src/${name})
  endif()
  foreach(_dep ${_stage_DEPENDS})
    if(NOT _dep IN_LIST DKWS_STAGES)
      message(FATAL_ERROR "stages.cmake: stage '${name}' depends on '${_dep}', which is not "
                          "listed above it")
    endif()
  endforeach()
  list(APPEND DKWS_STAGES ${name})
  set(DKWS_STAGE_${name}_DIR ${_stage_DIR})
  set(DKWS_STAGE_${name}_DEPENDS ${_stage_DEPENDS})
  set(DKWS_STAGE_${name}_HEADERS ${_stage_HEADERS})
endmacro()

set(DKWS_STAGES "")
# Errors, files, progress bars, random numbers.
dkws_stage(util HEADERS approx_math.hpp error.hpp rng.hpp util.hpp)
# Reading and writing audio, resampling.
dkws_stage(audio DEPENDS util HEADERS audio.hpp)
# The Edge Impulse MFCC and MFE front ends.
dkws_stage(dsp DEPENDS util HEADERS dsp.hpp)
# The run config: every spec a run is made of, and its JSON.
dkws_stage(config DEPENDS dsp HEADERS config.hpp)
# Datasets, tasks, the feature cache, augmentation, synthetic speech.
dkws_stage(data DEPENDS audio config HEADERS augment.hpp dataset.hpp synth.hpp)
# Layers, the Sequential network, loss, optimiser.
dkws_stage(nn DEPENDS util
  HEADERS nn/layer.hpp nn/layers.hpp nn/optim.hpp nn/sequential.hpp nn/tensor.hpp)
# Dendrite Nodes: the wrapped layer, candidates, growth.
dkws_stage(dendrite DEPENDS nn config HEADERS dendrite.hpp)
# Building networks (model families, any layer from its config) and the model file.
dkws_stage(model DEPENDS dendrite data HEADERS model_file.hpp models.hpp)
# The training loop, evaluation, the switching tracker, the files a run leaves.
dkws_stage(train DEPENDS model HEADERS teacher.hpp train.hpp)
# Sweeps: search spaces, samplers, storage, workers.
dkws_stage(sweep DEPENDS train HEADERS sweep.hpp sweep_run.hpp sweep_storage.hpp sweep_tpe.hpp)
# Analysis of a sweep's trials and the HTML report (reads the files a sweep writes).
dkws_stage(report DEPENDS util HEADERS sweep_analysis.hpp)
# int8 quantisation, the C99 library and firmware clips.
dkws_stage(deploy DEPENDS train HEADERS deploy.hpp)
# Float ONNX export: the only stage that links ONNX and protobuf.
dkws_stage(onnx DIR src/deploy/onnx DEPENDS model HEADERS onnx_export.hpp)
# Streaming detection.
dkws_stage(stream DEPENDS model HEADERS stream.hpp)
# The dkws command line: an executable over every stage.
dkws_stage(cli DEPENDS sweep report deploy onnx stream)
