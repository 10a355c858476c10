// docs/api/openapi.json through two standard validators the project did not write:
// swagger-parser (OpenAPI 3.0 schema validation, every $ref resolved) and redocly lint
// (its recommended rules). Any error fails; redocly's warnings are printed.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { documentPath, root, webRequire } from './lib.mjs';

let failed = false;
const SwaggerParser = webRequire('@apidevtools/swagger-parser');
try {
  const api = await SwaggerParser.validate(documentPath);
  console.log(`swagger-parser: valid (${Object.keys(api.paths).length} paths)`);
} catch (e) {
  failed = true;
  console.error(`swagger-parser: ${e.message}`);
}

const redocly = join(root, 'web', 'node_modules', '.bin', 'redocly');
let report;
try {
  report = execFileSync(redocly, ['lint', documentPath, '--format=json'],
                        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
} catch (e) {
  report = e.stdout;  // exits non-zero when there are errors
}
const problems = JSON.parse(report.slice(report.indexOf('{'))).problems;
for (const p of problems) {
  const where = (p.location || []).map((l) => l.pointer).join(' ');
  console.log(`redocly ${p.severity}: ${p.ruleId}: ${p.message} ${where}`);
  if (p.severity === 'error') failed = true;
}
console.log(`redocly: ${problems.filter((p) => p.severity === 'error').length} errors, ` +
            `${problems.filter((p) => p.severity === 'warn').length} warnings`);
process.exit(failed ? 1 : 0);
