// ort_bench.js - the ONNX Runtime CPU peer of bench/compare.sh (npm onnxruntime-node,
// installed into bench/compare/node_modules). Reads the files torch_bench.py exports.
// Not a clnet dependency.
//
//   node ort_bench.js --dir DIR --models resnet18,mobilenetv2 --input 224x224x3 --batch 1,8 --repeats R
//
// One JSON line per (model, batch) on stdout, the schema of report.py. Inputs are NCHW
// float32 with a dynamic batch; 2 intra-op threads, sequential execution, all graph
// optimizations (ORT folds batch norm into the convolutions, as clnet's fused plan does).
'use strict';
const fs = require('fs');
const path = require('path');

const THREADS = 2;
const WARMUP = 2;
const OPSET = 13;

function parseArgs(argv) {
  const a = { dir: 'build/compare-cache', models: [], input: '224x224x3', batch: [1], repeats: 10 };
  for (let i = 2; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--dir') a.dir = v;
    else if (argv[i] === '--models') a.models = v.split(',').filter(Boolean);
    else if (argv[i] === '--input') a.input = v;
    else if (argv[i] === '--batch') a.batch = v.split(',').map(Number);
    else if (argv[i] === '--repeats') a.repeats = Number(v);
    else {
      console.error(`ort_bench: unknown argument ${argv[i]}`);
      process.exit(2);
    }
    i++;
  }
  return a;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// min / median / p90 of the repeats in ms, the same picks as bench/models.c.
function summary(times, firstMs, batch) {
  const t = times.slice().sort((x, y) => x - y);
  const med = t[Math.floor(t.length / 2)];
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return {
    first_ms: r3(firstMs), min_ms: r3(t[0]), median_ms: r3(med),
    p90_ms: r3(t[Math.floor((t.length * 9) / 10)]),
    images_per_s: Math.round((batch * 1e5) / med) / 100, repeats: t.length,
  };
}

async function main() {
  const a = parseArgs(process.argv);
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    console.error(`ort_bench: onnxruntime-node is not installed: ${e.message}`);
    process.exit(1);
  }
  const version = require('onnxruntime-node/package.json').version;
  const [h, w, c] = a.input.toLowerCase().split('x').map(Number);
  for (const model of a.models) {
    const file = path.join(a.dir, `${model}_${a.input}_op${OPSET}.onnx`);
    let session = null;
    let loadError = null;
    try {
      if (!fs.existsSync(file)) throw new Error(`no ONNX file ${file} (export failed?)`);
      session = await ort.InferenceSession.create(file, {
        executionProviders: ['cpu'], intraOpNumThreads: THREADS, interOpNumThreads: 1,
        executionMode: 'sequential', graphOptimizationLevel: 'all',
      });
    } catch (e) {
      loadError = String(e.message || e).slice(0, 300);
    }
    for (const batch of a.batch) {
      const rec = { framework: 'ort', model, input: a.input, batch, mode: 'inference', version, threads: THREADS };
      if (loadError) {
        rec.error = loadError;
      } else {
        try {
          const data = new Float32Array(batch * c * h * w);
          for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
          const feeds = { input: new ort.Tensor('float32', data, [batch, c, h, w]) };
          let t0 = nowMs();
          await session.run(feeds);
          const first = nowMs() - t0;
          for (let i = 1; i < WARMUP; i++) await session.run(feeds);
          const times = [];
          for (let r = 0; r < a.repeats; r++) {
            t0 = nowMs();
            await session.run(feeds);
            times.push(nowMs() - t0);
          }
          Object.assign(rec, summary(times, first, batch));
        } catch (e) {
          rec.error = String(e.message || e).slice(0, 300);
        }
      }
      console.log(JSON.stringify(rec));
    }
    if (session && session.release) await session.release();
  }
}

main().catch((e) => {
  console.error(`ort_bench: ${e.stack || e}`);
  process.exit(1);
});
