// onnx_export_check.js - ONNX Runtime's side of bench/compare/onnx_export_check.sh: runs each
// DIR/MODEL.onnx that clnet_model_export_onnx wrote on DIR/MODEL.input.f32 and compares the
// output with clnet's own logits, DIR/MODEL.logits.f32 (bench_onnx_export_logits writes all
// three). npm onnxruntime-node, installed into bench/compare/node_modules. Not a clnet
// dependency.
//
//   node onnx_export_check.js --dir DIR --models a,b --input HxWxC --batch N [--nhwc] [--tol T]
//
// One line per model: max |ORT - clnet|, max |clnet|, their ratio and ok / FAIL (ratio above
// T, default 1e-4, or a model ORT cannot load or run). Exit 1 when any model fails.
'use strict';
const fs = require('fs');
const path = require('path');

function parseArgs(argv) {
  const a = { dir: '', models: [], input: '224x224x3', batch: 2, nhwc: false, tol: 1e-4 };
  for (let i = 2; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--nhwc') { a.nhwc = true; continue; }
    if (argv[i] === '--dir') a.dir = v;
    else if (argv[i] === '--models') a.models = v.split(',').filter(Boolean);
    else if (argv[i] === '--input') a.input = v;
    else if (argv[i] === '--batch') a.batch = Number(v);
    else if (argv[i] === '--tol') a.tol = Number(v);
    else {
      console.error(`onnx_export_check: unknown argument ${argv[i]}`);
      process.exit(2);
    }
    i++;
  }
  return a;
}

function floats(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

async function check(ort, a, model) {
  const [h, w, c] = a.input.toLowerCase().split('x').map(Number);
  const base = path.join(a.dir, model);
  const session = await ort.InferenceSession.create(`${base}.onnx`, {
    executionProviders: ['cpu'], intraOpNumThreads: 2, graphOptimizationLevel: 'all',
  });
  const dims = a.nhwc ? [a.batch, h, w, c] : [a.batch, c, h, w];
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', floats(`${base}.input.f32`), dims) };
  const out = (await session.run(feeds))[session.outputNames[0]].data;
  const want = floats(`${base}.logits.f32`);
  if (out.length !== want.length) throw new Error(`ORT gave ${out.length} values, clnet ${want.length}`);
  let diff = 0, big = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(out[i] - want[i]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    big = Math.max(big, Math.abs(want[i]));
  }
  return { diff, big, rel: big > 0 ? diff / big : diff };
}

async function main() {
  const a = parseArgs(process.argv);
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    console.error(`onnx_export_check: onnxruntime-node is not installed: ${e.message}`);
    process.exit(1);
  }
  let failed = 0;
  for (const model of a.models) {
    try {
      const r = await check(ort, a, model);
      const ok = r.rel <= a.tol;
      failed += ok ? 0 : 1;
      console.log(`${model.padEnd(22)} ${r.diff.toExponential(2).padStart(10)} ${r.big.toExponential(2).padStart(10)} ` +
                  `${r.rel.toExponential(2).padStart(10)}  ${ok ? 'ok' : 'FAIL'}`);
    } catch (e) {
      failed++;
      console.log(`${model.padEnd(22)} FAIL: ${String(e.message || e).slice(0, 300)}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

main();
