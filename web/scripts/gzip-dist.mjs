// After `vite build`: writes FILE.gz beside each text file of dist/ (best compression).
// netledgerd's build embeds the .gz form too and serves it to clients that accept gzip.
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const TEXT = /\.(html|js|mjs|css|svg|json|txt)$/;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

let saved = 0;
for (const file of walk(dist)) {
  if (file.endsWith('.gz')) {
    unlinkSync(file);
    continue;
  }
  if (!TEXT.test(file)) continue;
  const body = readFileSync(file);
  const gz = gzipSync(body, { level: constants.Z_BEST_COMPRESSION });
  // Tiny files gain nothing from compression.
  if (gz.length < body.length * 0.9) {
    writeFileSync(`${file}.gz`, gz);
    saved += body.length - gz.length;
  }
}
console.log(`gzip-dist: .gz beside the text files of dist/ (${Math.round(saved / 1024)} KiB saved)`);
