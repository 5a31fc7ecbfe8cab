// "Ours" in the PKI bench: one process that makes a root and N Istio-profile intermediates with the
// project's PKI core and writes each as PEM files (synchronously, as a CLI would; keys 0600), as the
// openssl loop does. The root is read once for all its intermediates (intermediateIssuer), as one
// process making a fleet's intermediates does (lab/start-lab.ts). pki-bench.ts bundles it
// with esbuild and runs it with plain node, so the time measured is startup + imports + work, as a
// deployed bundle pays it. Usage: node pki-worker.mjs <algorithm> <intermediates> <directory>
// Prints a count on stderr after each intermediate (progress) and {"workMs": ...} on stdout at the end.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRootCa, intermediateIssuer, isKeyAlgorithm } from '../lambdas/core/pki/index.js';

const [algorithm, countText, directory] = process.argv.slice(2);
const count = Number(countText);
if (!isKeyAlgorithm(algorithm) || !Number.isSafeInteger(count) || count < 1 || directory === undefined) {
  process.stderr.write('usage: pki-worker <key algorithm> <intermediates> <directory>\n');
  process.exit(2);
}

const started = performance.now();
const root = await createRootCa({ algorithm });
writeFileSync(join(directory, 'root-cert.pem'), root.certificatePem);
writeFileSync(join(directory, 'root-key.pem'), root.privateKeyPem, { mode: 0o600 });
const issuer = await intermediateIssuer(root);
for (let index = 1; index <= count; index += 1) {
  const intermediate = await issuer.createIntermediateCa({ cluster: `cluster-${index}`, algorithm });
  writeFileSync(join(directory, `int-${index}-cert.pem`), intermediate.certificatePem);
  writeFileSync(join(directory, `int-${index}-key.pem`), intermediate.privateKeyPem, { mode: 0o600 });
  process.stderr.write(`${index}\n`);
}
process.stdout.write(`${JSON.stringify({ workMs: performance.now() - started })}\n`);
