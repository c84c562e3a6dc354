// onnx_ort_logits.js - the ONNX Runtime side of bench/compare/onnx_torchvision.sh (npm
// onnxruntime-node in bench/compare/node_modules; not a clnet dependency): runs each
// fixture directory's model.onnx on its test_data_set_0/input_0.pb and compares the logits
// with output_0.pb, as bench/onnx_logits.c does for clnet.
//
//   node onnx_ort_logits.js DIR [DIR...] [--repeats N]
//
// One JSON line per DIR on stdout: {"dir", "max_rel_err" (max |ort - ref| / max |ref|),
// "argmax_agree", "rows", "median_ms" (over N runs after one warm-up), "threads"}, or
// {"dir", "error"}. 2 intra-op threads, sequential execution, all graph optimizations, as
// ort_bench.js.
'use strict';
const fs = require('fs');
const path = require('path');

const THREADS = 2;

function parseArgs(argv) {
  const a = { dirs: [], repeats: 10 };
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === '--repeats') a.repeats = Number(argv[++i]);
    else a.dirs.push(argv[i]);
  }
  if (!a.dirs.length || !(a.repeats >= 1)) {
    console.error('usage: node onnx_ort_logits.js DIR [DIR...] [--repeats N]');
    process.exit(2);
  }
  return a;
}

// The fields of a serialized onnx.TensorProto this needs: dims (1), data_type (2),
// float_data (4), raw_data (9), double_data (10). Float and double only: the test data of
// the fixtures is float32.
function readTensor(file) {
  const buf = fs.readFileSync(file);
  let pos = 0;
  const varint = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (pos >= buf.length) throw new Error(`${file}: truncated varint`);
      const b = buf[pos++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  const dims = [];
  let type = 0;
  let raw = null;
  const floats = [];
  const doubles = [];
  while (pos < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const v = varint();
      if (field === 1) dims.push(v);
      else if (field === 2) type = v;
    } else if (wire === 2) {
      const len = varint();
      const end = pos + len;
      if (end > buf.length) throw new Error(`${file}: truncated field ${field}`);
      if (field === 1) while (pos < end) dims.push(varint());
      else if (field === 4) for (; pos < end; pos += 4) floats.push(buf.readFloatLE(pos));
      else if (field === 10) for (; pos < end; pos += 8) doubles.push(buf.readDoubleLE(pos));
      else if (field === 9) raw = buf.subarray(pos, end);
      pos = end;
    } else if (wire === 5) {
      if (field === 4) floats.push(buf.readFloatLE(pos));
      pos += 4;
    } else if (wire === 1) {
      if (field === 10) doubles.push(buf.readDoubleLE(pos));
      pos += 8;
    } else {
      throw new Error(`${file}: wire type ${wire} in field ${field}`);
    }
  }
  const count = dims.reduce((x, y) => x * y, 1);
  let data;
  if (type === 1 && raw) {
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = raw.readFloatLE(4 * i);
  } else if (type === 11 && raw) {
    data = Float32Array.from({ length: count }, (_, i) => raw.readDoubleLE(8 * i));
  } else if (type === 1) {
    data = Float32Array.from(floats);
  } else if (type === 11) {
    data = Float32Array.from(doubles);
  } else {
    throw new Error(`${file}: data type ${type} (float32 or double expected)`);
  }
  if (data.length !== count) throw new Error(`${file}: ${data.length} values for dims [${dims}]`);
  return { dims, data };
}

// max |got - want| / max |want|, and in how many rows (first dim) the argmax is the same.
function compare(got, want, rows) {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  const per = want.length / rows;
  let agree = 0;
  for (let r = 0; r < rows; r++) {
    let g = 0;
    let w = 0;
    for (let j = 1; j < per; j++) {
      if (got[r * per + j] > got[r * per + g]) g = j;
      if (want[r * per + j] > want[r * per + w]) w = j;
    }
    agree += g === w;
  }
  return { rel: diff / Math.max(scale, 1e-30), agree };
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

async function runOne(ort, dir, repeats) {
  const data = path.join(dir, 'test_data_set_0');
  const x = readTensor(path.join(data, 'input_0.pb'));
  const want = readTensor(path.join(data, 'output_0.pb'));
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
    executionProviders: ['cpu'], intraOpNumThreads: THREADS, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  try {
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) };
    const first = await session.run(feeds);
    const got = first[session.outputNames[0]].data;
    if (got.length !== want.data.length)
      throw new Error(`${got.length} logits, output_0.pb has ${want.data.length}`);
    const times = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = nowMs();
      await session.run(feeds);
      times.push(nowMs() - t0);
    }
    times.sort((p, q) => p - q);
    const c = compare(got, want.data, want.dims[0]);
    return {
      max_rel_err: Number(c.rel.toPrecision(3)), argmax_agree: c.agree, rows: want.dims[0],
      median_ms: Math.round(times[Math.floor(times.length / 2)] * 1000) / 1000, threads: THREADS,
    };
  } finally {
    if (session.release) await session.release();
  }
}

async function main() {
  const a = parseArgs(process.argv);
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    console.error(`onnx_ort_logits: onnxruntime-node is not installed (cd bench/compare && npm ci --ignore-scripts): ${e.message}`);
    process.exit(1);
  }
  for (const dir of a.dirs) {
    let rec;
    try {
      rec = { dir, ...(await runOne(ort, dir, a.repeats)) };
    } catch (e) {
      rec = { dir, error: String(e.message || e).split('\n')[0].slice(0, 300) };
    }
    console.log(JSON.stringify(rec));
  }
}

main().catch((e) => {
  console.error(`onnx_ort_logits: ${e.stack || e}`);
  process.exit(1);
});
