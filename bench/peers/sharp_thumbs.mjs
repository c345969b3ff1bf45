// The benchmark's task done with sharp: every input JPEG made to fit within
// WxH (default 256x256) and written as JPEG quality Q (default 80), with N
// images in flight at once (default: one per core) and libvips using one
// thread per image (sharp.concurrency(1), as imgpipe does), cache off.
//
//   node sharp_thumbs.mjs --out DIR [--workers N] [--size 256] [--quality 80]
//                         [--fast-shrink] FILE...
//
// sharp is loaded from BENCH_NODE_DIR (where bench/run.sh ran `npm ci`), or
// from bench/peers/node_modules. By default this script passes
// fastShrinkOnLoad: false, so that libjpeg's DCT scaling leaves at least a
// factor of 2 for the final resize, exactly as libvips' thumbnail (imgpipe) and
// Pillow's draft/thumbnail do; --fast-shrink keeps sharp's own default
// (fastShrinkOnLoad: true: may shrink by 8 on load, less work, blockier).
// Output: 4:2:0 chroma and optimised Huffman tables (sharp's defaults), no
// metadata. Prints one JSON object: count, failures, output bytes and sizes.
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.BENCH_NODE_DIR || here;
const require = createRequire(path.join(nodeDir, 'package.json'));
const sharp = require('sharp');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    workers: { type: 'string', default: String(os.availableParallelism()) },
    size: { type: 'string', default: '256' },
    quality: { type: 'string', default: '80' },
    'fast-shrink': { type: 'boolean', default: false },
  },
});
if (!values.out || positionals.length === 0) {
  console.error('usage: sharp_thumbs.mjs --out DIR [--workers N] FILE...');
  process.exit(2);
}
const size = Number(values.size);
const quality = Number(values.quality);
const workers = Number(values.workers);
const fastShrinkOnLoad = values['fast-shrink'];

sharp.concurrency(1);
sharp.cache(false);

await import('node:fs/promises').then((fs) => fs.mkdir(values.out, { recursive: true }));

const results = [];
let next = 0;
async function worker() {
  while (next < positionals.length) {
    const file = positionals[next++];
    const target = path.join(values.out, path.basename(file, path.extname(file)) + '.jpg');
    try {
      const info = await sharp(file)
        .resize(size, size, { fit: 'inside', withoutEnlargement: true, fastShrinkOnLoad })
        .jpeg({ quality })
        .toFile(target);
      results.push({ ok: true, bytes: info.size, size: `${info.width}x${info.height}` });
    } catch (error) {
      results.push({ ok: false, error: `${file}: ${error.message}` });
    }
  }
}
await Promise.all(Array.from({ length: workers }, worker));

const failures = results.filter((r) => !r.ok).map((r) => r.error);
const ok = results.filter((r) => r.ok);
console.log(JSON.stringify({
  tool: fastShrinkOnLoad ? 'sharp-fast' : 'sharp',
  version: sharp.versions.sharp,
  libvips: sharp.versions.vips,
  count: ok.length,
  failures,
  output_bytes: ok.reduce((sum, r) => sum + r.bytes, 0),
  output_sizes: [...new Set(ok.map((r) => r.size))].sort(),
}));
process.exit(failures.length ? 1 : 0);
