// Runs an exported dkws .onnx model under onnxruntime, an ONNX runtime independent of dkws, for
// the ONNX parity test (tests/test_export_onnx.cpp).
//
//   node run.js MODEL.onnx INPUT.f32 DIMS OUT_PREFIX
//
// INPUT.f32 holds float32 little-endian values of the model input 'features' with shape DIMS
// (e.g. 50,50,13). Each model output NAME is written to OUT_PREFIX.NAME.f32; one JSON line on
// stdout names the runtime, backend and output shapes. onnxruntime-node (native CPU) is used when
// it loads, else onnxruntime-web (WebAssembly); DKWS_ORT=web forces the latter.
'use strict';
const fs = require('fs');

function loadRuntime() {
  const errors = [];
  const order = process.env.DKWS_ORT === 'web' ? ['onnxruntime-web'] : ['onnxruntime-node', 'onnxruntime-web'];
  for (const name of order) {
    try {
      return { name, ort: require(name) };
    } catch (e) {
      errors.push(`${name}: ${e.message.split('\n')[0]}`);
    }
  }
  throw new Error(`no onnxruntime could be loaded (${errors.join('; ')})`);
}

async function main() {
  const [modelPath, inputPath, dimsArg, outPrefix] = process.argv.slice(2);
  if (!outPrefix) throw new Error('usage: node run.js MODEL.onnx INPUT.f32 DIMS OUT_PREFIX');
  const dims = dimsArg.split(',').map(Number);
  const raw = fs.readFileSync(inputPath);
  const count = dims.reduce((a, b) => a * b, 1);
  if (raw.length !== count * 4) throw new Error(`${inputPath}: ${raw.length} bytes, expected ${count * 4} for ${dimsArg}`);
  const input = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));

  const { name, ort } = loadRuntime();
  const options = name === 'onnxruntime-web' ? { executionProviders: ['wasm'] } : { executionProviders: ['cpu'] };
  const session = await ort.InferenceSession.create(fs.readFileSync(modelPath), options);
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', input, dims);
  const results = await session.run(feeds);
  const outputs = {};
  for (const out of session.outputNames) {
    const t = results[out];
    fs.writeFileSync(`${outPrefix}.${out}.f32`, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    outputs[out] = t.dims;
  }
  const version = ort.env && ort.env.versions ? ort.env.versions.common : 'unknown';
  console.log(JSON.stringify({ runtime: name, version, inputs: session.inputNames, outputs }));
}

main().catch((e) => {
  console.error(`run.js: ${e.message}`);
  process.exit(1);
});
