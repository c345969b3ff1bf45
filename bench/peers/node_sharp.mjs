// The `node-sharp` peer of the end-to-end benchmark (bench/README.md): how a
// Node.js team would write the worker. kafkajs consumes MinIO's bucket events,
// @aws-sdk/client-s3 fetches and stores, sharp does the benchmark's job (fit in
// 1024x1024, auto-orient, sRGB, metadata stripped, JPEG quality 85) with
// sharp's defaults otherwise. Several messages are in flight at once: each
// fetched batch is worked on by --inflight lanes (default: two per core), and
// an offset is resolved once it and every offset before it are done, so
// kafkajs' auto-commit never skips an unfinished message.
//
//   node node_sharp.mjs --group G --source BUCKET --target BUCKET [--inflight N]
//
// Settings from the stack's env file: IMGPIPE_KAFKA_BROKERS, IMGPIPE_KAFKA_TOPIC,
// IMGPIPE_S3_ENDPOINT, IMGPIPE_S3_ACCESS_KEY, IMGPIPE_S3_SECRET_KEY,
// IMGPIPE_S3_REGION. Modules come from BENCH_NODE_DIR (where the benchmark ran
// `npm ci`). Runs until SIGTERM, then prints one JSON line: messages, outputs,
// failures. A record that is not a MinIO event, or an image that fails, is
// counted and logged, and the consumer goes on.
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(process.env.BENCH_NODE_DIR || here, 'package.json'));
const sharp = require('sharp');
const { Kafka, logLevel } = require('kafkajs');
const { S3Client, GetObjectCommand, PutObjectCommand } = require('@aws-sdk/client-s3');

const { values } = parseArgs({
  options: {
    group: { type: 'string' },
    source: { type: 'string' },
    target: { type: 'string' },
    inflight: { type: 'string', default: String(2 * os.availableParallelism()) },
  },
});
if (!values.group || !values.source || !values.target) {
  console.error('usage: node_sharp.mjs --group G --source BUCKET --target BUCKET [--inflight N]');
  process.exit(2);
}
const inflight = Math.max(1, Number(values.inflight));
sharp.cache(false);

const s3 = new S3Client({
  endpoint: process.env.IMGPIPE_S3_ENDPOINT,
  region: process.env.IMGPIPE_S3_REGION || 'us-east-1',
  forcePathStyle: true,
  credentials: {
    accessKeyId: process.env.IMGPIPE_S3_ACCESS_KEY,
    secretAccessKey: process.env.IMGPIPE_S3_SECRET_KEY,
  },
});
const counts = { messages: 0, outputs: 0, failures: 0 };

// The uploads into --source that one record announces; throws when the record
// is not a MinIO event.
function uploadsOf(message) {
  const event = JSON.parse(message.value.toString());
  if (!Array.isArray(event.Records)) throw new Error('no Records');
  return event.Records
    .filter((r) => String(r.eventName).startsWith('s3:ObjectCreated:'))
    .filter((r) => r.s3.bucket.name === values.source)
    .map((r) => decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')));
}

async function thumbnail(key) {
  const got = await s3.send(new GetObjectCommand({ Bucket: values.source, Key: key }));
  const input = await got.Body.transformToByteArray();
  const output = await sharp(input)
    .rotate() // EXIF orientation
    .resize(1024, 1024, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb') // from the embedded profile; metadata is stripped by default
    .jpeg({ quality: 85 })
    .toBuffer();
  await s3.send(new PutObjectCommand({
    Bucket: values.target, Key: key, Body: output, ContentType: 'image/jpeg',
  }));
}

async function handle(message) {
  counts.messages += 1;
  let keys;
  try {
    keys = uploadsOf(message);
  } catch (error) {
    counts.failures += 1;
    console.error(`node-sharp: offset ${message.offset}: not an event: ${error.message}`);
    return;
  }
  for (const key of keys) {
    try {
      await thumbnail(key);
      counts.outputs += 1;
    } catch (error) {
      counts.failures += 1;
      console.error(`node-sharp: ${values.source}/${key}: ${error.message}`);
    }
  }
}

async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }) {
  const { messages } = batch;
  const done = new Array(messages.length).fill(false);
  let next = 0;
  let resolved = 0;
  const lane = async () => {
    while (next < messages.length && isRunning() && !isStale()) {
      const i = next++;
      await handle(messages[i]);
      done[i] = true;
      while (resolved < messages.length && done[resolved]) resolveOffset(messages[resolved++].offset);
      await heartbeat();
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
}

const kafka = new Kafka({
  clientId: 'node-sharp',
  brokers: process.env.IMGPIPE_KAFKA_BROKERS.split(','),
  logLevel: logLevel.WARN,
});
const consumer = kafka.consumer({ groupId: values.group });
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await consumer.disconnect().catch(() => {});
  console.log(JSON.stringify(counts));
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await consumer.connect();
await consumer.subscribe({ topic: process.env.IMGPIPE_KAFKA_TOPIC || 'bucket-events', fromBeginning: true });
await consumer.run({ eachBatchAutoResolve: false, eachBatch });
